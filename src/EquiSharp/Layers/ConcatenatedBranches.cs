using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers;

/// <summary>
/// Several modules applied to the same input, outputs concatenated along one axis: y = [f_1(x); f_2(x); …]. The dense
/// form of a multi-kernel block is its branch convolutions side by side in this module: each branch keeps its own
/// kernel size, so it costs Σ_b F_b·k_b² multiply-adds per entry and input channel, not ΣF_b·max k_b² as one conv
/// zero-padded to the widest kernel would (RNA's 13:20/9:20/5:10 block: 5250 against 8450; its 5×5 branch alone
/// would cost 169/25 ≈ 6.8× more).
/// </summary>
public sealed class ConcatenatedBranches : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> branches;

    /// <summary>Axis the outputs are concatenated along (1: channels of (B, C, …)).</summary>
    public long Dim { get; }
    /// <summary>The branches, in output order.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Branches => branches.ToList();

    /// <param name="branches">Modules that all take the same input and agree on every output axis but <paramref name="dim"/>.</param>
    /// <param name="dim">Concatenation axis (default 1, channels).</param>
    public ConcatenatedBranches(IEnumerable<nn.Module<Tensor, Tensor>> branches, long dim = 1) : base(nameof(ConcatenatedBranches))
    {
        this.branches = new ModuleList<nn.Module<Tensor, Tensor>>(branches.ToArray());
        if (this.branches.Count == 0) throw new ArgumentException($"{nameof(ConcatenatedBranches)} needs at least one branch.", nameof(branches));
        Dim = dim;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Apply(branches, input, Dim);

    /// <summary>cat([f(input) for f in branches], dim): the forward of any block of parallel branches.</summary>
    public static Tensor Apply<TModule>(IEnumerable<TModule> branches, Tensor input, long dim = 1) where TModule : nn.Module<Tensor, Tensor> =>
        cat(branches.Select(b => b.forward(input)).ToArray(), dim);
}
