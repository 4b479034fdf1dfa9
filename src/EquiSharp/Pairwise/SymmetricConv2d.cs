using EquiSharp.Symmetry;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Pairwise;

/// <summary>
/// Shared machinery of the SCNN convolutions: a stride-1, 'same'-padded 2-D convolution whose weight is a
/// <see cref="TiedWeight"/> over a symmetry of the kernel. Subclasses only choose the symmetry.
/// </summary>
public abstract class SymmetricConv2d : nn.Module<Tensor, Tensor>, IMaterializedWeightCache
{
    private readonly TiedWeight weight;
    private readonly Parameter? bias;

    public long InChannels { get; }
    public long OutChannels { get; }
    public long KernelSize { get; }
    public long Dilation { get; }
    /// <summary>How far the kernel reads around an entry, dilation·(k−1)/2: the 'same' padding, and the halo a packed map needs.</summary>
    public long Reach => ReachOf(KernelSize, Dilation);

    /// <summary>dilation·(k−1)/2 for an odd kernel size k.</summary>
    public static long ReachOf(long kernelSize, long dilation) => dilation * (kernelSize - 1) / 2;
    /// <summary>The kernel symmetry, as a group acting on the weight's index space.</summary>
    public WeightSymmetry Symmetry { get; }
    /// <summary>Trainable parameters: the kernel's orbits plus the bias.</summary>
    public long FreeParameterCount => weight.FreeParameterCount + (bias is null ? 0 : OutChannels);
    /// <summary>The tied kernel.</summary>
    public TiedWeight TiedKernel => weight;
    /// <summary>The conv bias, if any.</summary>
    public Parameter? Bias => bias;

    protected SymmetricConv2d(string name, long inChannels, long outChannels, long kernelSize, long dilation, bool hasBias,
        WeightSymmetry symmetry, Device? device, ScalarType? dtype) : base(name)
    {
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Dilation = dilation;
        Symmetry = symmetry;
        weight = new TiedWeight(new OrbitTying(symmetry), device, dtype);
        bias = hasBias ? new Parameter(zeros(outChannels, dtype: dtype ?? ScalarType.Float32, device: device)) : null;
        RegisterComponents();
        ResetParameters();
    }

    /// <summary>Validates the arguments every symmetric convolution shares; messages say what was expected.</summary>
    protected static void CheckSizes(string layer, long inChannels, long outChannels, long kernelSize, long dilation)
    {
        if (inChannels <= 0) throw new ArgumentException($"{layer}: in_channels must be positive, got {inChannels}.", "in_channels");
        if (outChannels <= 0) throw new ArgumentException($"{layer}: out_channels must be positive, got {outChannels}.", "out_channels");
        if (kernelSize <= 0 || kernelSize % 2 == 0)
            throw new ArgumentException($"{layer}: kernel_size must be a positive odd number (a centred, 'same'-padded kernel keeps (i,j)↔(j,i) aligned), got {kernelSize}.", "kernel_size");
        if (dilation <= 0) throw new ArgumentException($"{layer}: dilation must be positive, got {dilation}.", "dilation");
    }

    /// <summary>
    /// Half-Glorot initialisation (SCNN III-B), made precise: Glorot's variance σ² = 2/(fan_in + fan_out) is shared
    /// among the entries a free parameter fills, so a parameter appearing m times gets variance σ²/m (uniform,
    /// bound sqrt(3σ²/m)). Each orbit thus carries the variance budget of one Glorot entry — the paper's "half" for
    /// the off-diagonal entries of a preserving kernel (m = 2); m = 1 on its diagonal, and m = 4 / 2 off / on the
    /// diagonal of a generating kernel. The materialised kernel's entries of multiplicity m have variance σ²/m.
    /// </summary>
    public void ResetParameters(Generator? generator = null)
    {
        double receptive = KernelSize * KernelSize;
        double glorotVariance = 2.0 / (InChannels * receptive + OutChannels * receptive);
        var m = weight.Tying.Multiplicities;
        weight.InitUniform(o => glorotVariance / m[o], generator);
        if (bias is not null) using (no_grad()) bias.zero_();
    }

    /// <summary>The materialised dense kernel (out, in, k, k).</summary>
    public Tensor Weight() => weight.Materialize();

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != InChannels)
            throw new ArgumentException($"{GetName()}: expected input (B, {InChannels}, L, L), got [{string.Join(", ", input.shape)}].");
        long pad = Reach;
        return nn.functional.conv2d(input, weight.Materialize(), bias,
            strides: new long[] { 1, 1 }, padding: new long[] { pad, pad }, dilation: new long[] { Dilation, Dilation });
    }

    /// <summary>Exports a plain <see cref="Conv2d"/> with the materialised weight (for interoperability and baselines).</summary>
    public Conv2d ToDense()
    {
        long pad = Reach;
        var w = weight.Materialize();
        var conv = nn.Conv2d(InChannels, OutChannels, KernelSize, stride: 1, padding: pad, dilation: Dilation, bias: bias is not null,
            device: w.device, dtype: w.dtype);
        using (no_grad())
        {
            conv.weight!.copy_(w);
            if (bias is not null) conv.bias!.copy_(bias);
        }
        return conv;
    }

    public void InvalidateCache() => weight.InvalidateCache();

    /// <summary>A line that says what the layer maps from and to and what symmetry it has.</summary>
    public override string ToString() =>
        $"{GetName()}({InChannels} → {OutChannels}, kernel {KernelSize}, dilation {Dilation}; symmetry: {Symmetry.Description}; free parameters {FreeParameterCount})";
}

/// <summary>
/// Symmetry-generating convolution (SCNN section III-A, eq. 2, Theorem 1): applied to a self-Cartesian product
/// y = [x_i; x_j] of a sequence, its output Z satisfies Z[b,f,s,t] = Z[b,f,t,s]. Input (B, 2n, L, L) → (B, F, L, L).
/// </summary>
public sealed class SymmetryGeneratingConv2d : SymmetricConv2d
{
    /// <summary>True when built on the widest Theorem-1 family (W[i,j,k] = W[j,i,n+k] only).</summary>
    public bool Wide { get; }

    internal SymmetryGeneratingConv2d(long inChannels, long outChannels, long kernelSize, bool bias, bool wide, Device? device, ScalarType? dtype)
        : base(nameof(SymmetryGeneratingConv2d), inChannels, outChannels, kernelSize, 1, bias,
               Validate(inChannels, outChannels, kernelSize, wide), device, dtype)
    {
        Wide = wide;
    }

    private static WeightSymmetry Validate(long inChannels, long outChannels, long kernelSize, bool wide)
    {
        CheckSizes(nameof(SymmetryGeneratingConv2d), inChannels, outChannels, kernelSize, 1);
        if (inChannels % 2 != 0)
            throw new ArgumentException($"{nameof(SymmetryGeneratingConv2d)}: in_channels must be even (2n channels of a self-Cartesian product [x_i; x_j]), got {inChannels}.", "in_channels");
        return wide ? PairKernelSymmetries.GeneratingWide(outChannels, inChannels, kernelSize)
                    : PairKernelSymmetries.Generating(outChannels, inChannels, kernelSize);
    }
}

/// <summary>
/// Symmetry-preserving convolution (SCNN eq. 4–5): a spatially symmetric kernel Q[f,k,i,j] = Q[f,k,j,i], so a symmetric
/// input X (X[b,c,s,t] = X[b,c,t,s]) gives a symmetric output. Input (B, m, L, L) → (B, F, L, L).
/// </summary>
public sealed class SymmetryPreservingConv2d : SymmetricConv2d
{
    internal SymmetryPreservingConv2d(long inChannels, long outChannels, long kernelSize, long dilation, bool bias, Device? device, ScalarType? dtype)
        : base(nameof(SymmetryPreservingConv2d), inChannels, outChannels, kernelSize, dilation, bias,
               Validate(inChannels, outChannels, kernelSize, dilation), device, dtype) { }

    private static WeightSymmetry Validate(long inChannels, long outChannels, long kernelSize, long dilation)
    {
        CheckSizes(nameof(SymmetryPreservingConv2d), inChannels, outChannels, kernelSize, dilation);
        return PairKernelSymmetries.Preserving(outChannels, inChannels, kernelSize);
    }
}
