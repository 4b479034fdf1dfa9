using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise.Packed;

/// <summary>A layer on packed symmetric maps.</summary>
public abstract class PackedModule : nn.Module<PackedSymmetricMap, PackedSymmetricMap>
{
    protected PackedModule(string name) : base(name) { }

    /// <summary>How far (dilation·(k−1)/2) the layer reads around an entry; the layout must support it (<see cref="PackedLayout.MaxHalo"/>).</summary>
    public virtual long Reach => 0;
}

/// <summary>
/// <see cref="SymmetryPreservingConv2d"/> on packed maps: gathers each upper tile with its halo (halo parts below the
/// diagonal from transposed upper tiles), runs one batched convolution, writes packed output tiles. Wraps the dense
/// layer (registered as "conv"), so parameters and <c>ToDense()</c> are shared.
/// </summary>
public sealed class PackedSymmetryPreservingConv2d : PackedModule
{
    private readonly SymmetryPreservingConv2d conv;
    public SymmetryPreservingConv2d Conv => conv;

    public PackedSymmetryPreservingConv2d(SymmetryPreservingConv2d conv) : base(nameof(PackedSymmetryPreservingConv2d))
    {
        this.conv = conv ?? throw new ArgumentNullException(nameof(conv));
        RegisterComponents();
    }

    public override PackedSymmetricMap forward(PackedSymmetricMap x)
    {
        if (x.Channels != conv.InChannels)
            throw new ArgumentException($"{nameof(PackedSymmetryPreservingConv2d)}: expected {conv.InChannels} channels, got {x.Channels}.", nameof(x));
        return PackedFunctions.MultiConv(x, new[] { conv }); // the stage's convolution path (one branch)
    }

    public override long Reach => conv.Reach;
}

/// <summary>
/// <see cref="MultiKernelSymmetricConv2d"/> on packed maps: one haloed gather with the widest branch's reach, every branch
/// convolves a centre crop of it, outputs concatenated on channels.
/// </summary>
public sealed class PackedMultiKernelSymmetricConv2d : PackedModule
{
    private readonly MultiKernelSymmetricConv2d block;
    public MultiKernelSymmetricConv2d Block => block;

    public PackedMultiKernelSymmetricConv2d(MultiKernelSymmetricConv2d block) : base(nameof(PackedMultiKernelSymmetricConv2d))
    {
        this.block = block ?? throw new ArgumentNullException(nameof(block));
        RegisterComponents();
    }

    public override long Reach => block.Reach;

    public override PackedSymmetricMap forward(PackedSymmetricMap x) => PackedFunctions.MultiConv(x, block.Branches);
}

/// <summary>
/// Batch norm on packed maps, equal to the dense batch norm it wraps (<see cref="BatchNorm2d"/>, or the masked
/// <see cref="PairBatchNorm2d"/> with the packed block mask of each sequence): statistics weight canonical off-diagonal
/// cells twice and diagonal cells once (duplicates and padding never), running statistics updated as torch does
/// (unbiased variance, momentum). The wrapped module is registered as "bn"; parameters and buffers are shared.
/// </summary>
public sealed class PackedBatchNorm2d : PackedModule
{
    private readonly nn.Module bn;
    private readonly double eps;
    private readonly double? momentum; // null: cumulative average, as torch's BatchNorm2d(momentum: null)
    private readonly Func<Tensor?> gamma, beta, runningMean, runningVar, tracked;
    /// <summary>The wrapped dense module.</summary>
    public nn.Module Dense => bn;

    /// <param name="bn">The dense batch norm whose parameters, running statistics, eps and momentum are used.</param>
    public PackedBatchNorm2d(BatchNorm2d bn) : base(nameof(PackedBatchNorm2d))
    {
        this.bn = bn ?? throw new ArgumentNullException(nameof(bn));
        eps = bn.eps; momentum = bn.momentum;
        gamma = () => bn.weight; beta = () => bn.bias;
        runningMean = () => bn.running_mean; runningVar = () => bn.running_var; tracked = () => bn.num_batches_tracked;
        RegisterComponents();
    }

    /// <param name="bn">The masked pair batch norm whose parameters, running statistics, eps and momentum are used.</param>
    public PackedBatchNorm2d(PairBatchNorm2d bn) : base(nameof(PackedBatchNorm2d))
    {
        this.bn = bn ?? throw new ArgumentNullException(nameof(bn));
        eps = bn.Eps; momentum = bn.Momentum;
        gamma = () => bn.Weight; beta = () => bn.Bias;
        runningMean = () => bn.RunningMean; runningVar = () => bn.RunningVar; tracked = () => null;
        RegisterComponents();
    }

    public override PackedSymmetricMap forward(PackedSymmetricMap input) => forward(input, null);

    /// <param name="input">Packed maps.</param>
    /// <param name="mask">Optional packed 0/1 mask (P, B, 1, R, C) of valid entries (<see cref="PackedSymmetricMap.BlockMask"/>):
    /// statistics over valid entries only, output zero outside them (as <see cref="PairBatchNorm2d"/>).</param>
    public PackedSymmetricMap forward(PackedSymmetricMap input, Tensor? mask) =>
        Normalize(input, mask, training, gamma(), beta(), runningMean(), runningVar(), tracked(), eps, momentum, ownsInput: false);

    /// <summary>
    /// The masked <see cref="PairBatchNorm2d"/> applied to packed maps, in the dense module's own training mode (for
    /// models that keep dense modules and run them packed without wrapper modules).
    /// </summary>
    public static PackedSymmetricMap Apply(PairBatchNorm2d bn, PackedSymmetricMap input, Tensor? mask) => Apply(bn, input, mask, ownsInput: false);

    /// <param name="bn">The masked pair batch norm (parameters, running statistics, mode).</param>
    /// <param name="input">Packed maps.</param>
    /// <param name="mask">Optional packed block mask of valid entries.</param>
    /// <param name="ownsInput">The input is a fresh map nobody else reads (a convolution's output): in inference (eval mode,
    /// no autograd) it is normalised in place.</param>
    internal static PackedSymmetricMap Apply(PairBatchNorm2d bn, PackedSymmetricMap input, Tensor? mask, bool ownsInput) =>
        Normalize(input, mask, bn.training, bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar, null, bn.Eps, bn.Momentum, ownsInput);

    private static PackedSymmetricMap Normalize(PackedSymmetricMap input, Tensor? mask, bool training, Tensor? g, Tensor? b,
        Tensor? rm, Tensor? rv, Tensor? tracked, double eps, double? momentum, bool ownsInput)
    {
        var x = input.Materialized();
        long c = x.shape[2];
        if (training || rm is null || rv is null)
        {
            var (mean, var_, count) = PackedFunctions.WeightedStats(x, input.Layout, mask);
            if (training && rm is not null && rv is not null)
                using (no_grad())
                {
                    tracked?.add_(KeptScalar.Of(1), KeptScalar.One);
                    double factor = momentum ?? 1.0 / Math.Max(tracked?.item<long>() ?? 1, 1);
                    rm.mul_(KeptScalar.Of(1 - factor)).add_(mean, alpha: KeptScalar.Of(factor));
                    rv.mul_(KeptScalar.Of(1 - factor)).add_(var_.mul(KeptScalar.Of(count / Math.Max(count - 1, 1))), alpha: KeptScalar.Of(factor));
                }
            var invstd = var_.add(KeptScalar.Of(eps), KeptScalar.One).rsqrt();
            bool fill = input.Layout.Margin > 0; // in-place-halo layout: hand the next convolution a ready canvas (no gather copy)
            return input.With(PackedFunctions.BatchNormTrain(x, g, b, mean, invstd, mask, input.Layout, count, fill), haloFilled: fill);
        }
        var inv = rv.add(KeptScalar.Of(eps), KeptScalar.One).rsqrt();
        var scale = g is null ? inv : inv.mul(g);
        var shift = (b is null ? zeros_like(rm) : b).sub(rm.mul(scale));
        if (ownsInput && !is_grad_enabled() && !input.PendingRelu && input.Layout.Margin > 0)
        {
            // inference on a map nobody else reads (a convolution's fresh output): normalise in place and fill the ring,
            // so the next convolution reads it as its canvas — no second copy of a full-length map
            var own = x.mul_(scale.view(1, 1, c, 1, 1)).add_(shift.view(1, 1, c, 1, 1), KeptScalar.One);
            if (mask is not null) own.mul_(mask);
            PackedFunctions.FillRing(own, input.Layout.Halo(0));
            return input.With(own, haloFilled: true);
        }
        var y = addcmul(shift.view(1, 1, c, 1, 1), x, scale.view(1, 1, c, 1, 1), KeptScalar.Of(1.0));
        return input.With(mask is null ? y : y.mul(mask));
    }
}

/// <summary>ReLU on packed maps: recorded as pending and applied by the consumer (no copy, no extra saved tensor).</summary>
public sealed class PackedReLU : PackedModule
{
    public PackedReLU() : base(nameof(PackedReLU)) { }
    public override PackedSymmetricMap forward(PackedSymmetricMap x) => PackedFunctions.Relu(x);
}

/// <summary>Sigmoid on packed maps (elementwise on the stored tiles).</summary>
public sealed class PackedSigmoid : PackedModule
{
    public PackedSigmoid() : base(nameof(PackedSigmoid)) { }
    public override PackedSymmetricMap forward(PackedSymmetricMap x) => PackedFunctions.Sigmoid(x);
}

/// <summary>
/// Symmetric dropout on packed maps: every canonical cell stands for an entry and its mirror, and nothing reads the
/// other cells, so one Bernoulli draw per stored cell keeps the map symmetric. Survivors are scaled by 1/(1−p).
/// Identity in eval mode.
/// </summary>
public sealed class PackedDropout : PackedModule
{
    public double P { get; }

    public PackedDropout(double p = 0.5) : base(nameof(PackedDropout))
    {
        if (p < 0 || p >= 1) throw new ArgumentException($"{nameof(PackedDropout)}: p must be in [0, 1), got {p}.", nameof(p));
        P = p;
    }

    public override PackedSymmetricMap forward(PackedSymmetricMap x)
    {
        if (!training || P == 0) return x;
        var data = x.Materialized();
        using var scope = NewDisposeScope();
        var mask = empty_like(data).bernoulli_(1 - P).div_(KeptScalar.Of(1 - P));
        return x.With(data.mul(mask).MoveToOuterDisposeScope());
    }
}

/// <summary>
/// A chain of packed layers: the user-facing packed twin of a dense stack of symmetric layers. It runs the same packed
/// operations as the models' <see cref="PairConvStage.ForwardPacked(PackedSymmetricMap, Tensor?)"/> (one convolution
/// path <see cref="PackedFunctions.MultiConv"/>, one batch norm, pending ReLU) through the same <see cref="PackedChain"/>.
/// </summary>
public sealed class PackedSequential : PackedModule
{
    private readonly ModuleList<PackedModule> layers;
    public IReadOnlyList<PackedModule> Layers => layers.ToList();

    public PackedSequential(params PackedModule[] layers) : base(nameof(PackedSequential))
    {
        this.layers = new ModuleList<PackedModule>(layers);
        RegisterComponents();
    }

    public override long Reach => layers.Count == 0 ? 0 : layers.Max(l => l.Reach);

    /// <summary>Runs the layers in order (<see cref="PackedChain.Run"/>: intermediate wrappers disposed as soon as consumed).</summary>
    public override PackedSymmetricMap forward(PackedSymmetricMap x) => PackedChain.Run(layers, x, (layer, m) => layer.forward(m));

    /// <summary>
    /// The packed twin of a dense stack of symmetric layers, sharing its parameters: preserving convs, multi-kernel
    /// blocks, BatchNorm2d, ReLU, Sigmoid and <see cref="SymmetricDropout"/> map to their packed versions.
    /// </summary>
    public static PackedSequential From(IEnumerable<nn.Module> dense) => new(dense.Select(ToPacked).ToArray());

    /// <summary>The packed twin of one dense layer.</summary>
    public static PackedModule ToPacked(nn.Module m) => m switch
    {
        SymmetryPreservingConv2d c => new PackedSymmetryPreservingConv2d(c),
        MultiKernelSymmetricConv2d b => new PackedMultiKernelSymmetricConv2d(b),
        BatchNorm2d bn => new PackedBatchNorm2d(bn),
        PairBatchNorm2d bn => new PackedBatchNorm2d(bn),
        ReLU => new PackedReLU(),
        Sigmoid => new PackedSigmoid(),
        SymmetricDropout d => new PackedDropout(d.P),
        PackedModule p => p,
        _ => throw new ArgumentException($"No packed version of {m.GetType().Name}; supported: SymmetryPreservingConv2d, MultiKernelSymmetricConv2d, BatchNorm2d, PairBatchNorm2d, ReLU, Sigmoid, SymmetricDropout.", nameof(m)),
    };
}

/// <summary>
/// Runs packed steps one after another — the one loop behind <see cref="PackedSequential"/> and a stack of
/// <see cref="PairConvStage"/>s (models, <c>verify</c>, <c>bench symconv</c>). Like TorchSharp's <c>Sequential</c>,
/// it disposes the wrapper of each intermediate map as soon as the next step has consumed it (memory autograd still
/// needs stays alive through its own references); the result is never disposed, the input only when the caller hands it over.
/// </summary>
public static class PackedChain
{
    /// <param name="steps">The steps, in order.</param>
    /// <param name="x">Input map.</param>
    /// <param name="apply">Runs one step on a map.</param>
    /// <param name="ownsInput">The caller hands <paramref name="x"/> over: it is disposed like an intermediate map.</param>
    public static PackedSymmetricMap Run<TStep>(IEnumerable<TStep> steps, PackedSymmetricMap x, Func<TStep, PackedSymmetricMap, PackedSymmetricMap> apply, bool ownsInput = false)
    {
        var cur = x;
        foreach (var step in steps)
        {
            var next = apply(step, cur);
            bool input = ReferenceEquals(cur, x) || ReferenceEquals(cur.Data, x.Data);
            if ((ownsInput || !input) && !ReferenceEquals(cur.Data, next.Data)) cur.Data.Dispose();
            cur = next;
        }
        return cur;
    }
}

/// <summary>Dense symmetric dropout (B, C, L, L): one mask per unordered pair (s, t), mirrored; the dense twin of <see cref="PackedDropout"/>.</summary>
public sealed class SymmetricDropout : nn.Module<Tensor, Tensor>
{
    public double P { get; }

    public SymmetricDropout(double p = 0.5) : base(nameof(SymmetricDropout))
    {
        if (p < 0 || p >= 1) throw new ArgumentException($"{nameof(SymmetricDropout)}: p must be in [0, 1), got {p}.", nameof(p));
        P = p;
    }

    public override Tensor forward(Tensor x)
    {
        if (!training || P == 0) return x;
        using var scope = NewDisposeScope();
        var upper = empty_like(x).bernoulli_(1 - P).triu();
        var mask = upper.add(upper.triu(1).transpose(2, 3), KeptScalar.One).div_(KeptScalar.Of(1 - P));
        return x.mul(mask).MoveToOuterDisposeScope();
    }
}
