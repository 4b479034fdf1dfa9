using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Pairwise.Packed;

/// <summary>A layer on packed symmetric maps.</summary>
public abstract class PackedModule : nn.Module<PackedSymmetricMap, PackedSymmetricMap>
{
    protected PackedModule(string name) : base(name) { }
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
        return PackedFunctions.Conv(x, conv.Weight(), conv.Bias, conv.Dilation);
    }
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

    public override PackedSymmetricMap forward(PackedSymmetricMap x)
    {
        var branches = block.Branches;
        long halo = branches.Max(b => b.Dilation * (b.KernelSize - 1) / 2);
        var canvas = PackedFunctions.Canvas(x, halo);
        var outs = branches.Select(b => PackedFunctions.ConvOnCanvas(x, canvas, halo, b.Weight(), b.Bias, b.Dilation).Data).ToArray();
        canvas.Dispose(); // the branch convolutions keep their own references
        var y = cat(outs, 2);
        foreach (var o in outs) o.Dispose();
        return x.With(y);
    }
}

/// <summary>
/// Batch norm on packed maps, equal to <see cref="BatchNorm2d"/> on the dense maps: statistics weight off-diagonal tiles
/// twice and diagonal tiles once (padding never), running statistics updated as torch does (unbiased variance,
/// momentum). Wraps a dense <see cref="BatchNorm2d"/> (registered as "bn") and shares its parameters and buffers.
/// </summary>
public sealed class PackedBatchNorm2d : PackedModule
{
    private readonly BatchNorm2d bn;
    private readonly double eps, momentum;
    public BatchNorm2d Bn => bn;

    /// <param name="bn">The dense batch norm whose parameters and running statistics are used.</param>
    /// <param name="eps">Must equal the dense module's eps (TorchSharp default 1e-5).</param>
    /// <param name="momentum">Must equal the dense module's momentum (TorchSharp default 0.1).</param>
    public PackedBatchNorm2d(BatchNorm2d bn, double eps = 1e-5, double momentum = 0.1) : base(nameof(PackedBatchNorm2d))
    {
        this.bn = bn ?? throw new ArgumentNullException(nameof(bn));
        this.eps = eps; this.momentum = momentum;
        RegisterComponents();
    }

    public override PackedSymmetricMap forward(PackedSymmetricMap input)
    {
        var x = input.Materialized();
        long c = x.shape[2];
        Tensor? gamma = bn.weight, beta = bn.bias;
        if (training || bn.running_mean is null)
        {
            var (mean, var_, count) = PackedFunctions.WeightedStats(x, input.Layout);
            if (training && bn.running_mean is not null && bn.running_var is not null)
                using (no_grad())
                {
                    bn.running_mean.mul_(1 - momentum).add_(mean, alpha: momentum);
                    bn.running_var.mul_(1 - momentum).add_(var_.mul(count / Math.Max(count - 1, 1)), alpha: momentum);
                    bn.num_batches_tracked?.add_(1);
                }
            var invstd = var_.add(eps).rsqrt();
            var y = PackedFunctions.BatchNormTrain(x, gamma, beta, mean, invstd, input.Layout.TileWeightsOn(x.device, x.dtype), count);
            return input.With(y);
        }
        var inv = bn.running_var!.add(eps).rsqrt();
        var scale = gamma is null ? inv : inv.mul(gamma);
        var shift = (beta is null ? zeros_like(bn.running_mean) : beta).sub(bn.running_mean.mul(scale));
        return input.With(addcmul(shift.view(1, 1, c, 1, 1), x, scale.view(1, 1, c, 1, 1), 1.0));
    }
}

/// <summary>ReLU on packed maps: recorded as pending and applied by the consumer (no copy, no extra saved tensor).</summary>
public sealed class PackedReLU : PackedModule
{
    public PackedReLU() : base(nameof(PackedReLU)) { }
    public override PackedSymmetricMap forward(PackedSymmetricMap x) => x.PendingRelu ? x : x.With(x.Data, pendingRelu: true);
}

/// <summary>Sigmoid on packed maps (elementwise on the stored tiles).</summary>
public sealed class PackedSigmoid : PackedModule
{
    public PackedSigmoid() : base(nameof(PackedSigmoid)) { }
    public override PackedSymmetricMap forward(PackedSymmetricMap x) => x.With(x.Materialized().sigmoid());
}

/// <summary>
/// Symmetric dropout on packed maps: every stored element of an off-diagonal tile stands for a mirrored pair, so one
/// Bernoulli draw per element keeps the map symmetric; diagonal tiles get a mask mirrored within the tile.
/// Survivors are scaled by 1/(1−p). Identity in eval mode.
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
        var mask = empty_like(data).bernoulli_(1 - P);
        var diag = x.Layout.Tiles.Select((t, q) => (t, q)).Where(z => z.t.I == z.t.J).Select(z => (long)z.q).ToArray();
        var di = tensor(diag, dtype: ScalarType.Int64, device: data.device);
        var md = mask.index_select(0, di);
        var upper = md.triu();
        mask.index_copy_(0, di, upper.add(upper.triu(1).transpose(3, 4)));
        var y = data.mul(mask.div_(1 - P));
        return x.With(y.MoveToOuterDisposeScope());
    }
}

/// <summary>A chain of packed layers.</summary>
public sealed class PackedSequential : PackedModule
{
    private readonly ModuleList<PackedModule> layers;
    public IReadOnlyList<PackedModule> Layers => layers.ToList();

    public PackedSequential(params PackedModule[] layers) : base(nameof(PackedSequential))
    {
        this.layers = new ModuleList<PackedModule>(layers);
        RegisterComponents();
    }

    /// <summary>
    /// Runs the layers in order. Like TorchSharp's <c>Sequential</c>, it disposes the wrappers of intermediate maps as soon
    /// as the next layer has consumed them (memory still needed by autograd stays alive through its own references).
    /// </summary>
    public override PackedSymmetricMap forward(PackedSymmetricMap x)
    {
        var cur = x;
        foreach (var l in layers)
        {
            var next = l.forward(cur);
            if (!ReferenceEquals(cur, x) && !ReferenceEquals(cur.Data, x.Data) && !ReferenceEquals(cur.Data, next.Data)) cur.Data.Dispose();
            cur = next;
        }
        return cur;
    }

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
        ReLU => new PackedReLU(),
        Sigmoid => new PackedSigmoid(),
        SymmetricDropout d => new PackedDropout(d.P),
        PackedModule p => p,
        _ => throw new ArgumentException($"No packed version of {m.GetType().Name}; supported: SymmetryPreservingConv2d, MultiKernelSymmetricConv2d, BatchNorm2d, ReLU, Sigmoid, SymmetricDropout.", nameof(m)),
    };
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
        var mask = upper.add(upper.triu(1).transpose(2, 3)).div_(1 - P);
        return x.mul(mask).MoveToOuterDisposeScope();
    }
}
