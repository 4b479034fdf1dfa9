using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise.Packed;
using EquiSharp.Layers.Pairwise.Separable;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise;

/// <summary>Activation of the hidden pair-map layers (the SCNN paper's text uses sigmoid, the authors' code ReLU).</summary>
public enum PairActivation { ReLU, Sigmoid }

/// <summary>
/// Batch norm for padded batches of pair maps: statistics are taken over valid entries only (inside each L_b×L_b
/// block), so padding never shifts them; outputs outside the blocks are zero. Per-channel affine, so symmetric in →
/// symmetric out. Without a mask it equals <c>BatchNorm2d</c>.
/// </summary>
public sealed class PairBatchNorm2d : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly double eps, momentum;
    public long Channels { get; }
    public Parameter Weight => weight;
    public Parameter Bias => bias;
    public Tensor RunningMean => get_buffer("running_mean")!;
    public Tensor RunningVar => get_buffer("running_var")!;
    public double Eps => eps;
    public double Momentum => momentum;
    /// <summary>The entries the training statistics cover (<see cref="PairNormStatistics"/>); the output is normalised everywhere.</summary>
    public PairNormStatistics Statistics { get; init; } = PairNormStatistics.WholeBlock;

    public PairBatchNorm2d(long channels, double eps = 1e-5, double momentum = 0.1, Device? device = null) : base(nameof(PairBatchNorm2d))
    {
        Channels = channels; this.eps = eps; this.momentum = momentum;
        weight = new Parameter(ones(channels, device: device));
        bias = new Parameter(zeros(channels, device: device));
        register_buffer("running_mean", zeros(channels, device: device));
        register_buffer("running_var", ones(channels, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => forward(x, null);

    /// <param name="x">(B, C, L, L).</param>
    /// <param name="mask">Optional (B, 1, L, L) 0/1 mask of valid entries.</param>
    public Tensor forward(Tensor x, Tensor? mask)
    {
        var runningMean = get_buffer("running_mean")!;
        var runningVar = get_buffer("running_var")!;
        Tensor mean, variance;
        if (training)
        {
            var weights = StatisticsWeights(x, mask);
            if (weights is null)
            {
                mean = x.mean(new long[] { 0, 2, 3 });
                variance = x.var(new long[] { 0, 2, 3 }, unbiased: false);
            }
            else
            {
                var count = weights.sum().clamp_min(KeptScalar.Of(1));
                mean = (x * weights).sum(new long[] { 0, 2, 3 }) / count;
                variance = ((x - mean.view(1, -1, 1, 1)).pow(KeptScalar.Of(2)) * weights).sum(new long[] { 0, 2, 3 }) / count;
            }
            using (no_grad())
            {
                double n = weights is null ? x.numel() / Channels : weights.sum().item<float>();
                var unbiased = variance.mul(KeptScalar.Of((n / Math.Max(n - 1, 1))));
                runningMean.mul_(KeptScalar.Of(1 - momentum)).add_(mean.detach().mul(KeptScalar.Of(momentum)), KeptScalar.One);
                runningVar.mul_(KeptScalar.Of(1 - momentum)).add_(unbiased.detach().mul(KeptScalar.Of(momentum)), KeptScalar.One);
            }
        }
        else
        {
            mean = runningMean;
            variance = runningVar;
        }
        var scale = weight / (variance.add(KeptScalar.Of(eps), KeptScalar.One)).sqrt();
        var y = (x * scale.view(1, -1, 1, 1)).add((bias - mean * scale).view(1, -1, 1, 1), KeptScalar.One);
        return mask is null ? y : y * mask;
    }

    /// <summary>
    /// Weights of the entries in the batch statistics: the mask (null = all entries, equally), or for
    /// <see cref="PairNormStatistics.MirroredUpper"/> the mask times 2 above the diagonal, 1 on it and 0 below.
    /// </summary>
    private Tensor? StatisticsWeights(Tensor x, Tensor? mask)
    {
        if (Statistics == PairNormStatistics.WholeBlock) return mask;
        long l = x.shape[^1];
        var mirrored = ones(l, l, dtype: x.dtype, device: x.device).triu(1).mul(KeptScalar.Of(2)).add(eye(l, dtype: x.dtype, device: x.device), KeptScalar.One);
        return mask is null ? mirrored.view(1, 1, l, l) : mask * mirrored;
    }

    public string InputDescription => $"(B, {Channels}, L, L), symmetric in the last two axes, optionally with a (B, 1, L, L) mask of valid entries";
    public string OutputDescription => $"(B, {Channels}, L, L), symmetric, zero outside the mask";
    public string SymmetryDescription => "per-channel affine map with statistics over whole (masked) maps: symmetric in → symmetric out, in training and eval mode";
    public long FreeParameterCount => 2 * Channels;
    /// <param name="size">Ignored: the dense form does not depend on the map size.</param>
    public long DenseParameterCount(long? size = null) => 2 * Channels;

    /// <summary>
    /// An <c>nn.BatchNorm2d</c> in eval mode with this layer's running statistics, affine parameters, eps and momentum:
    /// the same output as this layer in eval mode without a mask.
    /// </summary>
    /// <param name="size">Ignored: the dense form does not depend on the map size.</param>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null)
    {
        var bn = nn.BatchNorm2d(Channels, eps, momentum, device: weight.device, dtype: weight.dtype);
        using (no_grad())
        {
            bn.weight!.copy_(weight);
            bn.bias!.copy_(bias);
            bn.running_mean!.copy_(RunningMean);
            bn.running_var!.copy_(RunningVar);
        }
        bn.eval();
        return bn;
    }

    /// <summary>
    /// Asymmetry of the output on a random symmetric padded batch (lengths L and L − 1, masked statistics), the worse
    /// of training and eval mode. Running statistics and the mode are restored afterwards.
    /// </summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        bool wasTraining = training;
        using var scope = NewDisposeScope();
        var savedMean = RunningMean.clone();
        var savedVar = RunningVar.clone();
        try
        {
            var mask = PairMask.FromLengths(tensor(new[] { size, Math.Max(1, size - 1) }, device: weight.device), size, weight.dtype);
            return new[] { true, false }.Max(train =>
            {
                this.train(train);
                return PairSymmetryMeasure.OnSymmetricMaps(x => forward(x, mask), Channels, size, weight.dtype, weight.device, generator);
            });
        }
        finally
        {
            this.train(wasTraining);
            using (no_grad())
            {
                RunningMean.copy_(savedMean);
                RunningVar.copy_(savedVar);
            }
        }
    }
}

/// <summary>
/// One stage of a pair network: a multi-kernel convolution (symmetry-preserving, or plain for the CNN baseline) →
/// masked batch norm → activation → mask. Symmetric stages map symmetric maps to symmetric maps.
/// </summary>
public sealed class PairConvStage : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> convs;
    private readonly PairBatchNorm2d? norm;
    public PairActivation? Activation { get; }
    public bool Symmetric { get; }
    public long InChannels { get; }
    public long OutChannels { get; }

    /// <param name="inChannels">Input channels.</param>
    /// <param name="branches">(kernel size, out channels) per branch; outputs are concatenated.</param>
    /// <param name="symmetric">Symmetry-preserving kernels (SCNN) or plain convolutions (CNN baseline).</param>
    /// <param name="activation">Activation after the norm; null = none (e.g. before a final sigmoid).</param>
    /// <param name="batchNorm">Apply masked batch norm after the convolution.</param>
    /// <param name="device">Device for parameters.</param>
    /// <param name="initialisation">Rule for the kernels (null: half-Glorot for tied kernels, Glorot-uniform for plain ones).</param>
    /// <param name="normSettings">ε, momentum and statistics of the batch norm (null: <see cref="PairNormSettings.Default"/>).</param>
    public PairConvStage(long inChannels, (long KernelSize, long OutChannels)[] branches, bool symmetric, PairActivation? activation,
        bool batchNorm = true, Device? device = null, KernelInitialisation? initialisation = null, PairNormSettings? normSettings = null)
        : base(nameof(PairConvStage))
    {
        InChannels = inChannels;
        OutChannels = branches.Sum(b => b.OutChannels);
        Symmetric = symmetric;
        Activation = activation;
        convs = new ModuleList<nn.Module<Tensor, Tensor>>(branches.Select(b => symmetric
            ? (nn.Module<Tensor, Tensor>)PairLayers.SymmetryPreservingConv2d(inChannels, b.OutChannels, b.KernelSize, device: device, initialisation: initialisation)
            : DenseConv(inChannels, b.OutChannels, b.KernelSize, device, initialisation)).ToArray());
        norm = batchNorm ? (normSettings ?? PairNormSettings.Default).Create(OutChannels, device) : null;
        RegisterComponents();
    }

    internal static nn.Module<Tensor, Tensor> DenseConv(long inChannels, long outChannels, long kernelSize, Device? device,
        KernelInitialisation? initialisation = null)
    {
        if (kernelSize <= 0 || kernelSize % 2 == 0) throw new ArgumentException($"kernel_size must be a positive odd number, got {kernelSize}.");
        // Glorot-uniform weights and zero bias (the Keras defaults of the papers' CNN baselines), so the CNN starts from
        // the same Glorot scale as the symmetric layers' half-Glorot rule rather than TorchSharp's 1/(3·fan_in)
        var conv = nn.Conv2d(inChannels, outChannels, kernelSize, padding: kernelSize / 2, device: device);
        if (initialisation is null) nn.init.xavier_uniform_(conv.weight!);
        else
        {
            // an untied kernel: every entry is its own parameter (multiplicity 1), uniform with the rule's variance
            double variance = initialisation.VariancePerFreeParameter(new KernelFacts(inChannels, outChannels, kernelSize * kernelSize, 1));
            double bound = Math.Sqrt(3 * variance);
            using (no_grad()) conv.weight!.uniform_(-bound, bound);
        }
        nn.init.zeros_(conv.bias!);
        return conv;
    }

    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>Forward with an optional (B, 1, L, L) mask of valid entries.</summary>
    public Tensor forward(Tensor x, Tensor? mask)
    {
        // temporaries (branch outputs, the pre-activation map) freed here, not at the caller's scope end: autograd keeps what it needs
        using var scope = NewDisposeScope();
        return NormAndActivate(Convolve(x), norm, Activation, mask).MoveToOuterDisposeScope();
    }

    /// <summary>The stage's convolutions alone on dense maps (branches concatenated on channels), by its <see cref="Algorithm"/>.</summary>
    internal Tensor Convolve(Tensor x)
    {
        if (!UsesFourier) return convs.Count == 1 ? convs[0].forward(x) : cat(convs.Select(c => c.forward(x)).ToArray(), 1);
        // the branches as one kernel, by FFTs: one transform of the input for all of them (the 'same' zero padding made explicit)
        using var scope = NewDisposeScope();
        var (weight, bias) = FourierConvolution.MergeCentred(BranchKernels());
        long h = Reach;
        return FourierConvolution.Valid(nn.functional.pad(x, new[] { h, h, h, h }), weight, bias).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// How the stage's convolutions are computed (initially <see cref="ConvolutionAlgorithms.Default"/>, normally
    /// <see cref="ConvolutionAlgorithm.Auto"/>: by FFTs when the widest kernel is at least
    /// <see cref="ConvolutionAlgorithms.FourierFromKernel"/>: 9×9, or 3×3 where oneDNN is off). Every algorithm gives the
    /// same function; only speed and fp32 rounding differ.
    /// </summary>
    public ConvolutionAlgorithm Algorithm { get; set; } = ConvolutionAlgorithms.Default;

    internal bool UsesFourier => Algorithm.UsesFourier(2 * Reach + 1, dilated: convs.Any(c => c is SymmetricConv2d s && s.Dilations.Any(d => d != 1)));

    /// <summary>Each branch's kernel and bias as its convolution applies them.</summary>
    private List<(Tensor Weight, Tensor? Bias)> BranchKernels() => convs.Select(c => c is SymmetricConv2d s
        ? (s.Weight(), s.BiasVector())
        : (((Conv2d)c).weight!.alias(), ((Conv2d)c).bias?.alias())).ToList();

    /// <summary>How far the widest branch reads around an entry ((k−1)/2).</summary>
    public long Reach => convs.Max(c => c is SymmetricConv2d s ? s.Reach : SymmetricConv2d.ReachOf(((Conv2d)c).weight!.shape[2], 1));

    /// <summary>
    /// The same stage on packed symmetric maps (symmetric stages only): one haloed gather, every branch convolves it,
    /// packed masked batch norm, activation (ReLU stays pending for the next convolution). Equal to <see cref="forward(Tensor, Tensor?)"/>.
    /// </summary>
    /// <param name="x">Packed input maps.</param>
    /// <param name="mask">Packed block mask (<see cref="PackedSymmetricMap.BlockMask"/>) or null.</param>
    public PackedSymmetricMap ForwardPacked(PackedSymmetricMap x, Tensor? mask)
    {
        if (!Symmetric) throw new InvalidOperationException("Packed symmetric maps need symmetry-preserving convolutions; this stage uses plain ones (CNN baseline).");
        // temporaries freed here, as in the dense forward (autograd keeps what it needs through its own references)
        using var scope = NewDisposeScope();
        var y = ConvolvePacked(x);
        return KeepData(NormAndActivate(y, norm, Activation, mask));
    }

    /// <summary>The stage's convolutions alone on packed maps (no batch norm or activation), by its <see cref="Algorithm"/>.</summary>
    internal PackedSymmetricMap ConvolvePacked(PackedSymmetricMap x) =>
        PackedFunctions.MultiConv(x, convs.Cast<SymmetryPreservingConv2d>().ToList(), UsesFourier);

    /// <summary>"fourier" or "direct": how the stage's convolutions run now.</summary>
    internal string AlgorithmInUse => UsesFourier ? "fourier" : "direct";

    /// <summary>
    /// The stage on the channel concatenation of <paramref name="parts"/> (e.g. a head after a skip branch). In inference
    /// (no autograd) the concatenation is never built (<see cref="PackedFunctions.ConvolveParts"/>).
    /// </summary>
    internal PackedSymmetricMap ForwardPacked(IReadOnlyList<PackedSymmetricMap> parts, Tensor? mask)
    {
        if (parts.Count == 1 || is_grad_enabled()) return ForwardPacked(parts.Count == 1 ? parts[0] : PackedSymmetricMap.Concat(parts.ToArray()), mask);
        if (!Symmetric) throw new InvalidOperationException("Packed symmetric maps need symmetry-preserving convolutions; this stage uses plain ones (CNN baseline).");
        using var scope = NewDisposeScope();
        var y = PackedFunctions.ConvolveParts(parts, convs.Cast<SymmetryPreservingConv2d>().ToList(), UsesFourier);
        return KeepData(NormAndActivate(y, norm, Activation, mask));
    }

    /// <summary>
    /// Inference (no autograd) of the stage in the channel planes of <paramref name="buffer"/> that hold its input
    /// (<see cref="PackedFunctions.ConvolveInPlace"/>): no second full-length map.
    /// </summary>
    internal PackedSymmetricMap ForwardPackedInPlace(PackedSymmetricMap x, Tensor buffer, Tensor? mask)
    {
        if (!Symmetric) throw new InvalidOperationException("Packed symmetric maps need symmetry-preserving convolutions; this stage uses plain ones (CNN baseline).");
        using var scope = NewDisposeScope();
        var y = PackedFunctions.ConvolveInPlace(x, buffer, convs.Cast<SymmetryPreservingConv2d>().ToList(), UsesFourier);
        return KeepData(NormAndActivate(y, norm, Activation, mask));
    }

    /// <summary>
    /// A stack of stages on packed maps, one after another (<see cref="PackedChain"/>): the one packed execution path that
    /// the pair network, <c>verify</c> and <c>bench symconv</c> run.
    /// </summary>
    /// <param name="stages">Symmetric stages, in order.</param>
    /// <param name="x">Packed input maps.</param>
    /// <param name="mask">Packed block mask or null.</param>
    /// <param name="ownsInput">The caller hands <paramref name="x"/> over: its data is freed once the first stage has read it.</param>
    public static PackedSymmetricMap ForwardPacked(IEnumerable<PairConvStage> stages, PackedSymmetricMap x, Tensor? mask, bool ownsInput = false) =>
        PackedChain.Run(stages, x, (stage, m) => stage.ForwardPacked(m, mask), ownsInput);

    /// <summary>Dense twin of <see cref="ForwardPacked(IEnumerable{PairConvStage}, PackedSymmetricMap, Tensor?, bool)"/>.</summary>
    public static Tensor Forward(IEnumerable<PairConvStage> stages, Tensor x, Tensor? mask)
    {
        var cur = x;
        foreach (var stage in stages)
        {
            var next = stage.forward(cur, mask);
            if (!ReferenceEquals(cur, x)) cur.Dispose(); // as Sequential: an intermediate is not needed once consumed
            cur = next;
        }
        return cur;
    }

    /// <summary>The branch convolutions (symmetry-preserving, or plain for the CNN baseline), outputs concatenated.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Branches => convs.ToList();

    /// <summary>The masked batch norm after the convolution, or null.</summary>
    public PairBatchNorm2d? Norm => norm;

    /// <summary>Moves a map's data out of the current dispose scope (the map a scoped packed step returns).</summary>
    internal static PackedSymmetricMap KeepData(PackedSymmetricMap y)
    {
        y.Data.MoveToOuterDisposeScope();
        return y;
    }

    /// <summary>Packed twin of <see cref="NormAndActivate(Tensor, PairBatchNorm2d?, PairActivation?, Tensor?)"/>.</summary>
    /// <param name="y">A fresh map (a convolution's output) that nobody else reads: inference normalises it in place.</param>
    /// <param name="norm">The masked batch norm, or null (masking only).</param>
    /// <param name="activation">Activation after the norm, or null.</param>
    /// <param name="mask">Packed block mask, or null.</param>
    internal static PackedSymmetricMap NormAndActivate(PackedSymmetricMap y, PairBatchNorm2d? norm, PairActivation? activation, Tensor? mask)
    {
        y = norm is null ? y.Masked(mask) : PackedBatchNorm2d.Apply(norm, y, mask, ownsInput: true);
        return activation switch
        {
            PairActivation.ReLU => PackedFunctions.Relu(y),                   // applied by the next convolution
            PairActivation.Sigmoid => PackedFunctions.Sigmoid(y).Masked(mask), // sigmoid(0) ≠ 0: re-mask
            _ => y,
        };
    }

    /// <summary>Masked batch norm (or plain masking) then the activation; outside the mask the result is zero.</summary>
    internal static Tensor NormAndActivate(Tensor y, PairBatchNorm2d? norm, PairActivation? activation, Tensor? mask)
    {
        y = norm is null ? (mask is null ? y : y * mask) : norm.forward(y, mask);
        y = activation switch
        {
            PairActivation.ReLU => nn.functional.relu(y),
            PairActivation.Sigmoid => nn.functional.sigmoid(y),
            _ => y,
        };
        return mask is null || activation is null or PairActivation.ReLU ? y : y * mask; // sigmoid(0) ≠ 0: re-mask
    }

    /// <summary>Trainable parameters (tied kernels count their orbits only).</summary>
    public long FreeParameterCount => parameters().Sum(p => p.numel());
}

/// <summary>
/// From a sequence (B, L, n) to pair maps (B, F, L, L): the self-Cartesian product followed by a symmetry-generating
/// convolution (SCNN) or a plain convolution (CNN baseline), then masked batch norm and activation.
/// </summary>
public sealed class PairEncoder : nn.Module<Tensor, Tensor>
{
    private readonly SelfCartesian product = new();
    private readonly nn.Module<Tensor, Tensor> conv;
    private readonly PairBatchNorm2d? norm;
    public PairActivation? Activation { get; }
    public long OutChannels { get; }
    /// <summary>
    /// Compute the dense forward of a symmetric encoder with the separable generating layer (no self-Cartesian
    /// product); the same output, cheaper. Ignored by a plain (CNN baseline) encoder.
    /// </summary>
    public bool Separable { get; set; }

    /// <param name="features">n: features per position (the self-Cartesian product has 2n channels).</param>
    /// <param name="outChannels">F: output maps.</param>
    /// <param name="kernelSize">Odd kernel size.</param>
    /// <param name="symmetric">Symmetry-generating kernel (SCNN) or a plain convolution (CNN baseline).</param>
    /// <param name="activation">Activation after the norm; null = none.</param>
    /// <param name="batchNorm">Apply masked batch norm after the convolution.</param>
    /// <param name="device">Device for parameters.</param>
    /// <param name="initialisation">Rule for the kernel (null: half-Glorot for the tied kernel, Glorot-uniform for a plain one).</param>
    /// <param name="normSettings">ε, momentum and statistics of the batch norm (null: <see cref="PairNormSettings.Default"/>).</param>
    public PairEncoder(long features, long outChannels, long kernelSize, bool symmetric, PairActivation? activation, bool batchNorm = true, Device? device = null,
        KernelInitialisation? initialisation = null, PairNormSettings? normSettings = null)
        : base(nameof(PairEncoder))
    {
        OutChannels = outChannels;
        Activation = activation;
        conv = symmetric
            ? PairLayers.SymmetryGeneratingConv2d(2 * features, outChannels, kernelSize, device: device, initialisation: initialisation)
            : PairConvStage.DenseConv(2 * features, outChannels, kernelSize, device, initialisation);
        norm = batchNorm ? (normSettings ?? PairNormSettings.Default).Create(outChannels, device) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>(B, L, n) with optional lengths (B) → (B, F, L, L), zero outside each L_b×L_b block.</summary>
    public Tensor forward(Tensor x, Tensor? lengths)
    {
        var mask = lengths is null ? null : PairMask.FromLengths(lengths, x.shape[1], x.dtype);
        var y = Separable && conv is SymmetryGeneratingConv2d g
            ? SeparableGenerating.Forward(g.Weight(), g.Bias, x, lengths)
            : conv.forward(product.forward(x, lengths));
        return PairConvStage.NormAndActivate(y, norm, Activation, mask);
    }

    /// <summary>
    /// The same encoder writing packed symmetric maps (symmetric encoders only): the separable generating layer (no
    /// self-Cartesian product, no dense map), packed masked batch norm, activation. Equal to <see cref="forward(Tensor, Tensor?)"/>.
    /// </summary>
    /// <param name="x">Sequence features (B, L, n).</param>
    /// <param name="lengths">Optional lengths (B).</param>
    /// <param name="layout">Packed layout for side L (built for the widest convolution that follows).</param>
    /// <param name="mask">The packed block mask for <paramref name="lengths"/> (<see cref="PackedSymmetricMap.BlockMask"/>) or null.</param>
    /// <param name="into">Inference only, one sequence: a (1, C ≥ OutChannels, cells) buffer whose first planes receive
    /// the map (<see cref="SeparableGenerating.ForwardPacked"/>).</param>
    public PackedSymmetricMap ForwardPacked(Tensor x, Tensor? lengths, PackedLayout layout, Tensor? mask, Tensor? into = null)
    {
        if (conv is not SymmetryGeneratingConv2d g)
            throw new InvalidOperationException("Packed symmetric maps need a symmetry-generating encoder; this one is a plain convolution (CNN baseline).");
        using var scope = NewDisposeScope();
        var y = SeparableGenerating.ForwardPacked(g.Weight(), g.Bias, x, lengths, layout, into);
        return PairConvStage.KeepData(PairConvStage.NormAndActivate(y, norm, Activation, mask));
    }
}
