using EquiSharp.Symmetry;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers;

/// <summary>
/// A 1-D or 2-D convolution whose kernel W (out, in, k…) is a <see cref="TiedWeight"/>: W = θ[index] for any
/// <see cref="WeightTying"/> of the kernel tensor, optionally with a tied bias. Everything else is PyTorch's
/// convolution (stride, padding 'same' / 'valid' / explicit, dilation), so a symmetry family only supplies the
/// tying: the SCNN kernels (transpose, half swap), p4/p4m filter banks (rotations × group-axis permutations) and
/// reverse-complement filters (reversed length × complemented channels) are all this class.
/// Autograd's backward of the gather sums ∂L/∂W over each orbit: ∂L/∂θ_o = Σ_{e∈o} sign_e ∂L/∂W_e (SCNN eqs. 3, 5).
/// </summary>
public abstract class TiedConvolution : nn.Module<Tensor, Tensor>, IMaterializedWeightCache
{
    private readonly TiedWeight weight;
    private readonly Parameter? bias;
    private readonly TiedWeight? tiedBias;
    private readonly long[] padBefore, padAfter;

    /// <summary>1 or 2.</summary>
    public int SpatialDims { get; }
    public long InChannels { get; }
    public long OutChannels { get; }
    public long[] KernelSizes { get; }
    public long[] Strides { get; }
    public long[] Dilations { get; }
    public ConvolutionPadding Padding { get; }
    /// <summary>The rule the kernel was initialised with.</summary>
    public KernelInitialisation Initialisation { get; }
    /// <summary>The tied kernel.</summary>
    public TiedWeight TiedKernel => weight;
    /// <summary>The untied bias, if the layer has one and it is not tied.</summary>
    public Parameter? Bias => bias;
    /// <summary>The tied bias, if the bias is tied.</summary>
    public TiedWeight? TiedBias => tiedBias;
    /// <summary>Kernel free parameters plus bias free parameters.</summary>
    public long FreeParameterCount => weight.FreeParameterCount + (tiedBias?.FreeParameterCount ?? (bias is null ? 0 : OutChannels));
    /// <summary>Parameters of the plain convolution <see cref="ToDense"/> returns.</summary>
    /// <param name="size">Ignored: a convolution's dense kernel does not depend on the input size.</param>
    public long DenseParameterCount(long? size = null) => TensorShape.Numel(weight.Shape) + (HasBias ? OutChannels : 0);
    /// <summary>True when the layer adds a bias.</summary>
    public bool HasBias => bias is not null || tiedBias is not null;

    /// <param name="name">Module name (the subclass's).</param>
    /// <param name="spatialDims">1 (Conv1d) or 2 (Conv2d).</param>
    /// <param name="kernelTying">Tying of the kernel tensor (out, in, k…); its shape fixes channels and kernel size.</param>
    /// <param name="stride">Stride per spatial axis (one value for all, or one per axis).</param>
    /// <param name="padding">'same', 'valid' or explicit zeros.</param>
    /// <param name="dilation">Dilation per spatial axis (one value for all, or one per axis).</param>
    /// <param name="bias">Whether to add a bias.</param>
    /// <param name="biasTying">Tying of the bias vector (out), or null for one free value per output channel.</param>
    /// <param name="initialisation">Rule for the kernel's free parameters (default <see cref="KernelInitialisation.GlorotPerFilterEntry"/>).</param>
    /// <param name="device">Device of parameters and buffers.</param>
    /// <param name="dtype">Parameter type (default float32).</param>
    protected TiedConvolution(string name, int spatialDims, WeightTying kernelTying, long[] stride, ConvolutionPadding padding,
        long[] dilation, bool bias, WeightTying? biasTying, KernelInitialisation? initialisation, Device? device, ScalarType? dtype)
        : base(name)
    {
        if (spatialDims is not (1 or 2)) throw new ArgumentException($"{name}: only 1-D and 2-D tied convolutions exist, got {spatialDims}-D.");
        var shape = kernelTying.Shape;
        if (shape.Length != spatialDims + 2)
            throw new ArgumentException($"{name}: a {spatialDims}-D kernel has shape (out, in{string.Concat(Enumerable.Repeat(", k", spatialDims))}), got [{string.Join(", ", shape)}].");
        if (shape.Any(s => s <= 0)) throw new ArgumentException($"{name}: kernel shape [{string.Join(", ", shape)}] has an empty axis.");
        SpatialDims = spatialDims;
        OutChannels = shape[0];
        InChannels = shape[1];
        KernelSizes = shape[2..];
        Strides = PerAxis(name, "stride", stride, spatialDims);
        Dilations = PerAxis(name, "dilation", dilation, spatialDims);
        Padding = padding;
        (padBefore, padAfter) = padding.Resolve(KernelSizes, Dilations, Strides);
        Initialisation = initialisation ?? KernelInitialisation.GlorotPerFilterEntry;
        if (!bias && biasTying is not null) throw new ArgumentException($"{name}: a bias tying was given for a layer without bias.");
        if (biasTying is not null && !biasTying.Shape.SequenceEqual(new[] { OutChannels }))
            throw new ArgumentException($"{name}: the bias tying has shape [{string.Join(", ", biasTying.Shape)}], expected [{OutChannels}].");

        weight = new TiedWeight(kernelTying, device, dtype);
        register_module("weight", weight);
        if (biasTying is not null)
        {
            tiedBias = new TiedWeight(biasTying, device, dtype);
            register_module("bias", tiedBias);
        }
        else if (bias)
        {
            this.bias = new Parameter(zeros(OutChannels, dtype: dtype ?? ScalarType.Float32, device: device));
            register_parameter("bias", this.bias);
        }
        ResetParameters();
    }

    private static long[] PerAxis(string name, string what, long[] values, int dims)
    {
        if (values.Length != 1 && values.Length != dims)
            throw new ArgumentException($"{name}: {what} has {values.Length} values for {dims} spatial axes (give one, or one per axis).", what);
        if (values.Any(v => v <= 0)) throw new ArgumentException($"{name}: {what} must be positive, got [{string.Join(", ", values)}].", what);
        return Enumerable.Range(0, dims).Select(d => values.Length == 1 ? values[0] : values[d]).ToArray();
    }

    /// <summary>
    /// Draws the kernel's free parameters by <see cref="Initialisation"/> (uniform, variance per free parameter from
    /// its multiplicity inside one filter) and zeroes the bias.
    /// </summary>
    public void ResetParameters(Generator? generator = null)
    {
        long receptive = KernelSizes.Aggregate(1L, (a, b) => a * b);
        var m = weight.Tying.MultiplicitiesWithinSlices(0);
        weight.InitUniform(o => Initialisation.VariancePerFreeParameter(new KernelFacts(InChannels, OutChannels, receptive, m[o])), generator);
        using (no_grad())
        {
            bias?.zero_();
            tiedBias?.Theta.zero_();
        }
        tiedBias?.InvalidateCache();
    }

    /// <summary>The materialised kernel (out, in, k…), differentiable with respect to θ.</summary>
    public Tensor Weight() => weight.Materialize();

    /// <summary>The bias vector (materialised when tied), or null.</summary>
    public Tensor? BiasVector() => tiedBias?.Materialize() ?? bias;

    /// <summary>Spatial output size for a given input size, as PyTorch computes it.</summary>
    public long[] OutputSize(params long[] inputSize)
    {
        if (inputSize.Length != SpatialDims) throw new ArgumentException($"{GetName()}: expected {SpatialDims} spatial sizes, got {inputSize.Length}.");
        return Enumerable.Range(0, SpatialDims)
            .Select(d => (inputSize[d] + padBefore[d] + padAfter[d] - Dilations[d] * (KernelSizes[d] - 1) - 1) / Strides[d] + 1).ToArray();
    }

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != SpatialDims + 2 || input.shape[1] != InChannels)
            throw new ArgumentException($"{GetName()}: expected input (B, {InChannels}{string.Concat(Enumerable.Repeat(", L", SpatialDims))}), got [{string.Join(", ", input.shape)}].");
        var x = input;
        long[] symmetric = padBefore;
        if (!padBefore.SequenceEqual(padAfter))
        {
            // the extra zero of an even 'same' extent goes after, as in PyTorch; pad explicitly, then convolve unpadded
            var pads = new long[2 * SpatialDims];
            for (int d = 0; d < SpatialDims; d++)
            {
                pads[2 * (SpatialDims - 1 - d)] = padBefore[d];      // F.pad lists the last axis first
                pads[2 * (SpatialDims - 1 - d) + 1] = padAfter[d];
            }
            x = nn.functional.pad(input, pads);
            symmetric = new long[SpatialDims];
        }
        var w = weight.Materialize();
        var b = BiasVector();
        return SpatialDims == 1
            ? nn.functional.conv1d(x, w, b, stride: Strides[0], padding: symmetric[0], dilation: Dilations[0])
            : nn.functional.conv2d(x, w, b, strides: Strides, padding: symmetric, dilation: Dilations);
    }

    /// <summary>A plain <see cref="Conv1d"/> or <see cref="Conv2d"/> with the materialised kernel and bias: same function, no tying.</summary>
    public Convolution ToDense()
    {
        var w = weight.Materialize();
        var b = BiasVector();
        Convolution conv;
        bool same = Padding.Kind == ConvolutionPaddingKind.Same;
        if (SpatialDims == 1)
            conv = same
                ? nn.Conv1d(InChannels, OutChannels, KernelSizes[0], TorchSharp.Padding.Same, stride: Strides[0], dilation: Dilations[0], bias: b is not null, device: w.device, dtype: w.dtype)
                : nn.Conv1d(InChannels, OutChannels, KernelSizes[0], stride: Strides[0], padding: padBefore[0], dilation: Dilations[0], bias: b is not null, device: w.device, dtype: w.dtype);
        else
            conv = same
                ? nn.Conv2d(InChannels, OutChannels, (KernelSizes[0], KernelSizes[1]), TorchSharp.Padding.Same, stride: (Strides[0], Strides[1]), dilation: (Dilations[0], Dilations[1]), bias: b is not null, device: w.device, dtype: w.dtype)
                : nn.Conv2d(InChannels, OutChannels, (KernelSizes[0], KernelSizes[1]), stride: (Strides[0], Strides[1]), padding: (padBefore[0], padBefore[1]), dilation: (Dilations[0], Dilations[1]), bias: b is not null, device: w.device, dtype: w.dtype);
        using (no_grad())
        {
            conv.weight!.copy_(w);
            if (b is not null) conv.bias!.copy_(b);
        }
        return conv;
    }

    /// <summary><see cref="ToDense"/> as a module (what <see cref="IEquivariantModule.ToDenseModule"/> returns for every tied convolution).</summary>
    /// <param name="size">Ignored: a convolution's dense form does not depend on the input size.</param>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null) => ToDense();

    public void InvalidateCache()
    {
        weight.InvalidateCache();
        tiedBias?.InvalidateCache();
    }

    /// <summary>Kernel and geometry in one line.</summary>
    protected string Geometry =>
        $"{InChannels} → {OutChannels}, kernel {string.Join("×", KernelSizes)}" +
        (Strides.Any(s => s != 1) ? $", stride {string.Join("×", Strides)}" : "") +
        $", padding {Padding}" +
        (Dilations.Any(d => d != 1) ? $", dilation {string.Join("×", Dilations)}" : "");
}
