using EquiSharp.Verification;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers.ReverseComplement;

/// <summary>
/// Batch normalisation after an RC convolution (§3.1.2): channel c and its partner 2F−1−c share batch statistics,
/// running statistics, γ and β. As in the paper, the RC half (channels reversed) is concatenated to the forward half
/// along the length axis, giving (B, F, 2L), which a standard BatchNorm1d(F) normalises; the result is split and the
/// RC half put back. In training mode the pooled statistics of a batch equal those of its reverse complement (the
/// same multiset of values per channel pair), so the layer is RC-equivariant in both modes:
/// bn(rc(x)) = rc(bn(x)). Parameters (§3.6.2): 2F (half of a standard batch norm over 2F channels).
/// Why not a <see cref="Symmetry.TiedWeight"/> for γ and β: the statistics must be pooled too, and the fold does both.
/// </summary>
public sealed class RcBatchNorm1d : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    private readonly BatchNorm1d norm;

    /// <summary>RC-structured channels 2F of the input.</summary>
    public long Channels { get; }
    /// <summary>The shared normalisation over F channel pairs.</summary>
    public BatchNorm1d Shared => norm;

    public RcBatchNorm1d(long channels, double eps = 1e-5, double momentum = 0.1, Device? device = null, ScalarType? dtype = null) : base(nameof(RcBatchNorm1d))
    {
        ReverseComplementTies.RequireEvenChannels(nameof(RcBatchNorm1d), "channels", channels);
        Channels = channels;
        norm = nn.BatchNorm1d(channels / 2, eps, momentum, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 3 || x.shape[1] != Channels)
            throw new ArgumentException($"{nameof(RcBatchNorm1d)}: expected (B, {Channels}, L), got [{string.Join(", ", x.shape)}].");
        long half = Channels / 2, length = x.shape[2];
        // partner of forward channel c (< F) is 2F−1−c, i.e. position c of the channel-reversed RC half
        var folded = cat(new[] { x.narrow(1, 0, half), x.narrow(1, half, half).flip(1) }, 2);
        var y = norm.forward(folded);
        return cat(new[] { y.narrow(2, 0, length), y.narrow(2, length, length).flip(1) }, 1);
    }

    public long FreeParameterCount => 2 * (Channels / 2);
    public long DenseParameterCount(long? size = null) => 2 * Channels;

    /// <summary>A plain BatchNorm1d(2F) holding γ, β and running statistics duplicated onto both partners: the same function in eval mode.</summary>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null)
    {
        var w = norm.weight!;
        var dense = nn.BatchNorm1d(Channels, norm.eps, norm.momentum ?? 0.1, device: w.device, dtype: w.dtype);
        using (no_grad())
        {
            Tensor Both(Tensor v) => cat(new[] { v, v.flip(0) });
            dense.weight!.copy_(Both(norm.weight!));
            dense.bias!.copy_(Both(norm.bias!));
            dense.running_mean!.copy_(Both(norm.running_mean!));
            dense.running_var!.copy_(Both(norm.running_var!));
        }
        dense.eval();
        return dense;
    }

    public string InputDescription => $"(B, {Channels}, L), RC-structured";
    public string OutputDescription => $"(B, {Channels}, L), RC-structured";
    public string SymmetryDescription => "bn(rc(x)) = rc(bn(x)): statistics, γ and β shared by channel c and its RC partner (§3.1.2)";

    /// <summary>Deviation of bn(rc(x)) from rc(bn(x)) in training mode (batch statistics), on a random input.</summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        bool wasTraining = training;
        var w = norm.weight!;
        var x = randn(new[] { 4, Channels, size }, dtype: w.dtype, device: w.device, generator: generator);
        using var _ = no_grad();
        // no_grad alone still updates running statistics in training mode: keep a copy and restore it
        var mean = norm.running_mean!.clone();
        var variance = norm.running_var!.clone();
        var batches = norm.num_batches_tracked!.clone();
        train();
        double dev = Deviation.Relative(forward(ReverseComplementTies.Apply(x)), ReverseComplementTies.Apply(forward(x)));
        norm.running_mean!.copy_(mean);
        norm.running_var!.copy_(variance);
        norm.num_batches_tracked!.copy_(batches);
        train(wasTraining);
        return dev;
    }

    public override string ToString() => $"RcBatchNorm1d({Channels} channels = {Channels / 2} RC pairs; free parameters {FreeParameterCount})";
}
