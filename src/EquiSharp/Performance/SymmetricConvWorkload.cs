using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Packed;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Performance;

/// <summary>
/// The shape of the symmetric-map benchmark (SCNN §III-B): a stack of <see cref="Layers"/> symmetry-preserving k×k
/// convolutions, each followed by batch norm and ReLU (the pair network's <see cref="PairConvStage"/>), on a batch of
/// symmetric L×L maps.
/// </summary>
/// <param name="Length">L: side of the symmetric maps.</param>
/// <param name="Channels">Channels of every layer.</param>
/// <param name="Kernel">Odd kernel size of every preserving convolution.</param>
/// <param name="Layers">Number of conv + BN + ReLU layers.</param>
/// <param name="Batch">B: maps per batch.</param>
/// <param name="Layout">Packed layout name: folded, folded-nomargin or tiled.</param>
/// <param name="Tile">Tile side of the tiled layout (0 = <see cref="TiledLayout.DefaultTile"/>).</param>
public sealed record SymmetricConvSpec(long Length, long Channels, long Kernel, long Layers, long Batch, string Layout = "folded", long Tile = 0)
{
    /// <summary>The packed layout the spec names, with the halo the kernel needs.</summary>
    public PackedLayout MakeLayout() => Layout switch
    {
        "folded" => PackedLayout.Folded(Length, (Kernel - 1) / 2),
        "folded-nomargin" => PackedLayout.Folded(Length, (Kernel - 1) / 2, withMargin: false),
        "tiled" => PackedLayout.Tiled(Length, Tile > 0 ? Tile : TiledLayout.DefaultTile(Length)),
        _ => throw new ArgumentException($"unknown packed layout '{Layout}' (expected folded, folded-nomargin or tiled)."),
    };
}

/// <summary>
/// One forward+backward of the <see cref="SymmetricConvSpec"/> stack, dense and packed, with shared parameters, a
/// symmetric input and a symmetric upstream gradient. The stack is a list of <see cref="PairConvStage"/>s: the packed
/// variant runs <see cref="PairConvStage.ForwardPacked(IEnumerable{PairConvStage}, PackedSymmetricMap, Tensor?, bool)"/>, the
/// code the pair network runs; the dense baseline runs each stage's convolution with torch's fused batch norm on the
/// stage's parameters (the strongest dense form of the same function). Each variant builds only the forms it is asked to keep, so a
/// process that runs one variant holds only that variant's memory.
/// </summary>
public sealed class SymmetricConvWorkload
{
    /// <summary>Which representations to build.</summary>
    public enum Keep { Both, Dense, Packed }

    private readonly PairConvStage[] stages;
    private readonly Tensor? input, upstream, packedUpstream;
    private readonly PackedSymmetricMap? packedInput;

    public SymmetricConvSpec Spec { get; }
    public PackedLayout Layout { get; }

    /// <summary>The free parameters, shared by both variants (their gradients after a run show what it computed).</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> Parameters() => stages.SelectMany(s => s.parameters());

    public SymmetricConvWorkload(SymmetricConvSpec spec, Device? device = null, Keep keep = Keep.Both, int seed = 1)
    {
        Spec = spec;
        Layout = spec.MakeLayout();
        torch.manual_seed(seed);
        stages = Enumerable.Range(0, (int)spec.Layers)
            .Select(_ => new PairConvStage(spec.Channels, new[] { (spec.Kernel, spec.Channels) }, symmetric: true, PairActivation.ReLU, device: device)).ToArray();
        using var _ = no_grad();
        var shape = new[] { spec.Batch, spec.Channels, spec.Length, spec.Length };
        if (keep != Keep.Packed)
        {
            input = SymmetricRandom(shape, device);
            upstream = SymmetricRandom(shape, device);
        }
        if (keep == Keep.Both)
        {
            // the same maps in both forms; Σ G·Y over the dense map = Σ over stored cells of (cell weight · G · Y)
            packedInput = PackedSymmetricMap.Pack(input!, Layout);
            packedUpstream = PackedSymmetricMap.Pack(upstream!, Layout).Data.mul(Layout.CellWeightsOn(input!.device, upstream!.dtype));
        }
        else if (keep == Keep.Packed)
        {
            packedInput = PackedSymmetricMap.Random(Layout, spec.Batch, spec.Channels, device);
            packedUpstream = PackedSymmetricMap.Random(Layout, spec.Batch, spec.Channels, device).Data;
        }
    }

    private static Tensor SymmetricRandom(long[] shape, Device? device)
    {
        using var a = randn(shape, device: device);
        return a.add(a.transpose(2, 3), KeptScalar.One);
    }

    /// <summary>Forward and backward of the dense stack; everything it allocates is disposed.</summary>
    public void RunDense()
    {
        if (input is null) throw new InvalidOperationException("This workload was built without the dense maps.");
        using var scope = NewDisposeScope();
        foreach (var stage in stages) stage.zero_grad();
        var y = input;
        foreach (var stage in stages)
        {
            var next = FusedDenseStage(stage, y);
            if (!ReferenceEquals(y, input)) y.Dispose(); // as Sequential: an intermediate is not needed once consumed
            y = next;
        }
        y.backward(new[] { upstream! });
    }

    /// <summary>
    /// The dense baseline of one stage: its convolution, then torch's fused batch norm on the stage's own parameters and
    /// running statistics (the same function as the stage's unmasked <see cref="PairBatchNorm2d"/>, but the strongest
    /// dense form: fewer saved tensors and backward temporaries), then ReLU.
    /// </summary>
    private static Tensor FusedDenseStage(PairConvStage stage, Tensor x)
    {
        using var scope = NewDisposeScope();
        var bn = stage.Norm!;
        var y = nn.functional.batch_norm(stage.Branches[0].forward(x), bn.RunningMean, bn.RunningVar, bn.Weight, bn.Bias,
            training: true, momentum: bn.Momentum, eps: bn.Eps);
        return nn.functional.relu(y).MoveToOuterDisposeScope();
    }

    /// <summary>Forward and backward of the packed stack; everything it allocates is disposed.</summary>
    public void RunPacked()
    {
        if (packedInput is null) throw new InvalidOperationException("This workload was built without the packed maps.");
        using var scope = NewDisposeScope();
        foreach (var stage in stages) stage.zero_grad();
        var m = PairConvStage.ForwardPacked(stages, packedInput, mask: null);
        var y = m.Materialized();
        // like Sequential does for dense intermediates: the pre-activation map is not needed once the final ReLU is applied
        if (m.PendingRelu) m.Data.Dispose();
        y.backward(new[] { packedUpstream! });
    }
}
