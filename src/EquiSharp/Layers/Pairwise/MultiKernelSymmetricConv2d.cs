using EquiSharp.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Pairwise;

/// <summary>
/// Several symmetry-preserving convolutions of different kernel sizes on the same input, concatenated on channels
/// (the RNA model's 13/9/5 and 9/5 blocks). Symmetric in → symmetric out, since every branch is (SCNN eq. 4) and
/// concatenating channels keeps each map symmetric. (B, m, L, L) → (B, ΣF_b, L, L).
/// </summary>
public sealed class MultiKernelSymmetricConv2d : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    private readonly ModuleList<SymmetryPreservingConv2d> branches;

    public long InChannels { get; }
    public long OutChannels { get; }
    public IReadOnlyList<SymmetryPreservingConv2d> Branches => branches.ToList();
    public long FreeParameterCount => branches.Sum(b => b.FreeParameterCount);
    /// <summary>The widest branch's reach (<see cref="SymmetricConv2d.Reach"/>).</summary>
    public long Reach => branches.Max(b => b.Reach);

    internal MultiKernelSymmetricConv2d(long inChannels, (long KernelSize, long OutChannels)[] spec, bool bias, Device? device, ScalarType? dtype)
        : base(nameof(MultiKernelSymmetricConv2d))
    {
        if (spec.Length == 0) throw new ArgumentException("MultiKernelSymmetricConv2d needs at least one (kernel_size, out_channels) branch.", nameof(spec));
        InChannels = inChannels;
        OutChannels = spec.Sum(s => s.OutChannels);
        branches = new ModuleList<SymmetryPreservingConv2d>(spec.Select(s =>
            new SymmetryPreservingConv2d(inChannels, s.OutChannels, s.KernelSize, 1, bias, device, dtype)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => ConcatenatedBranches.Apply(branches, input);

    /// <summary>Plain convolutions with the materialised weights, one per branch (concatenate their outputs).</summary>
    public Conv2d[] ToDense() => branches.Select(b => b.ToDense()).ToArray();

    /// <summary>The branch convolutions side by side, outputs concatenated on channels (each keeps its kernel size).</summary>
    /// <param name="size">Ignored: the dense form does not depend on the map size.</param>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null) => new ConcatenatedBranches(ToDense());

    /// <param name="size">Ignored: the dense form does not depend on the map size.</param>
    public long DenseParameterCount(long? size = null) => branches.Sum(b => b.DenseParameterCount());

    public string InputDescription => $"(B, {InChannels}, L, L), symmetric in the last two axes";
    public string OutputDescription => $"(B, {OutChannels}, L, L), symmetric: Y[b,f,s,t] = Y[b,f,t,s] (branches {BranchList} concatenated)";
    public string SymmetryDescription => $"every branch has a spatially symmetric kernel Q[f,k,i,j] = Q[f,k,j,i] (SCNN eq. 4): symmetric in → symmetric out";

    /// <summary>Asymmetry of the output on a random symmetric input (eq. 4).</summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        var theta = branches[0].TiedKernel.Theta;
        return PairSymmetryMeasure.OnSymmetricMaps(forward, InChannels, size, theta.dtype, theta.device, generator);
    }

    private string BranchList => string.Join(", ", branches.Select(b => $"{b.KernelSize}×{b.KernelSize}:{b.OutChannels}"));

    public override string ToString() =>
        $"MultiKernelSymmetricConv2d({InChannels} → {OutChannels}; branches {BranchList}; free parameters {FreeParameterCount})";
}
