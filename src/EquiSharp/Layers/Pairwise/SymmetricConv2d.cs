using EquiSharp.Layers;
using EquiSharp.Symmetry;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Pairwise;

/// <summary>
/// The SCNN convolutions: a stride-1, 'same'-padded 2-D <see cref="TiedConvolution"/> with a square odd kernel whose
/// tying is a symmetry of the kernel. Subclasses only choose the symmetry and say how to check it.
/// </summary>
public abstract class SymmetricConv2d : TiedConvolution, IEquivariantModule
{
    /// <summary>Side of the square kernel.</summary>
    public long KernelSize => KernelSizes[0];
    /// <summary>Dilation along both axes.</summary>
    public long Dilation => Dilations[0];
    /// <summary>How far the kernel reads around an entry, dilation·(k−1)/2: the 'same' padding, and the halo a packed map needs.</summary>
    public long Reach => ReachOf(KernelSize, Dilation);

    /// <summary>dilation·(k−1)/2 for an odd kernel size k.</summary>
    public static long ReachOf(long kernelSize, long dilation) => dilation * (kernelSize - 1) / 2;
    /// <summary>The kernel symmetry, as a group acting on the weight's index space.</summary>
    public WeightSymmetry Symmetry { get; }

    protected SymmetricConv2d(string name, long kernelSize, long dilation, bool hasBias, WeightSymmetry symmetry,
        KernelInitialisation? initialisation, Device? device, ScalarType? dtype)
        : base(name, 2, new OrbitTying(symmetry), new[] { 1L }, ConvolutionPadding.Same, new[] { dilation }, hasBias, null, initialisation, device, dtype)
    {
        Symmetry = symmetry;
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

    /// <summary>Exports a plain <see cref="Conv2d"/> with the materialised weight (for interoperability and baselines).</summary>
    public new Conv2d ToDense() => (Conv2d)base.ToDense();

    public abstract string InputDescription { get; }
    public string OutputDescription => $"(B, {OutChannels}, L, L), symmetric: Y[b,f,s,t] = Y[b,f,t,s]";
    public string SymmetryDescription => Symmetry.Description;
    public abstract double MeasureEquivariance(long size, Generator? generator = null);

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

    internal SymmetryGeneratingConv2d(long inChannels, long outChannels, long kernelSize, bool bias, bool wide, Device? device, ScalarType? dtype,
        KernelInitialisation? initialisation = null)
        : base(nameof(SymmetryGeneratingConv2d), kernelSize, 1, bias,
               Validate(inChannels, outChannels, kernelSize, wide), initialisation, device, dtype)
    {
        Wide = wide;
    }

    public override string InputDescription => $"(B, {InChannels}, L, L): a self-Cartesian product [x_i; x_j] of a (B, L, {InChannels / 2}) sequence";

    /// <summary>Asymmetry of the output on the self-Cartesian product of a random sequence (Theorem 1).</summary>
    public override double MeasureEquivariance(long size, Generator? generator = null) =>
        PairSymmetryMeasure.OnSequences(x => forward(new SelfCartesian().forward(x)), InChannels / 2, size, TiedKernel.Theta.dtype, TiedKernel.Theta.device, generator);

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
    internal SymmetryPreservingConv2d(long inChannels, long outChannels, long kernelSize, long dilation, bool bias, Device? device, ScalarType? dtype,
        KernelInitialisation? initialisation = null)
        : base(nameof(SymmetryPreservingConv2d), kernelSize, dilation, bias,
               Validate(inChannels, outChannels, kernelSize, dilation), initialisation, device, dtype) { }

    public override string InputDescription => $"(B, {InChannels}, L, L), symmetric in the last two axes";

    /// <summary>Asymmetry of the output on a random symmetric input (eq. 4).</summary>
    public override double MeasureEquivariance(long size, Generator? generator = null) =>
        PairSymmetryMeasure.OnSymmetricMaps(forward, InChannels, size, TiedKernel.Theta.dtype, TiedKernel.Theta.device, generator);

    private static WeightSymmetry Validate(long inChannels, long outChannels, long kernelSize, long dilation)
    {
        CheckSizes(nameof(SymmetryPreservingConv2d), inChannels, outChannels, kernelSize, dilation);
        return PairKernelSymmetries.Preserving(outChannels, inChannels, kernelSize);
    }
}
