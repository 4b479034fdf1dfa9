using EquiSharp.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Pairwise.Separable;

/// <summary>
/// The symmetry-generating convolution applied to a sequence directly: (B, L, n) [+ lengths] → (B, F, L, L), equal to
/// <c>conv.forward(SelfCartesian(x, lengths))</c> masked to each L_b×L_b block, but computed separably
/// (see <see cref="SeparableGenerating"/>) without materialising the (B, 2n, L, L) product. It wraps a
/// <see cref="SymmetryGeneratingConv2d"/> (registered as "conv"), so the tied kernel, parameters, <see cref="ToDense"/>
/// and initialisation are exactly the dense layer's.
/// </summary>
public sealed class SeparableSymmetryGeneratingConv2d : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    private readonly SymmetryGeneratingConv2d conv;

    /// <summary>The wrapped dense layer (same parameters).</summary>
    public SymmetryGeneratingConv2d Conv => conv;
    /// <summary>n: per-position features of the input sequence (the product has 2n channels).</summary>
    public long SequenceFeatures => conv.InChannels / 2;
    public long OutChannels => conv.OutChannels;
    public long KernelSize => conv.KernelSize;
    public long FreeParameterCount => conv.FreeParameterCount;
    /// <summary>How the broadcast sum is computed (fused custom autograd by default).</summary>
    public SeparableGenerating.Engine Engine { get; set; } = SeparableGenerating.Engine.Fused;

    /// <summary>Wraps an existing generating convolution (shares its parameters).</summary>
    public SeparableSymmetryGeneratingConv2d(SymmetryGeneratingConv2d conv) : base(nameof(SeparableSymmetryGeneratingConv2d))
    {
        this.conv = conv ?? throw new ArgumentNullException(nameof(conv));
        if (conv.Dilation != 1) throw new ArgumentException("Separable generating conv supports dilation 1 only.", nameof(conv));
        RegisterComponents();
    }

    /// <summary>A new generating convolution over sequences of <paramref name="sequenceFeatures"/> features (product channels 2n).</summary>
    public SeparableSymmetryGeneratingConv2d(long sequenceFeatures, long outChannels, long kernelSize = 1, bool bias = true, bool wide = false,
        Device? device = null, ScalarType? dtype = null)
        : this(PairLayers.SymmetryGeneratingConv2d(2 * sequenceFeatures, outChannels, kernelSize, bias, wide, device, dtype)) { }

    /// <param name="x">Sequence features (B, L, n).</param>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <param name="x">Sequence features (B, L, n).</param>
    /// <param name="lengths">Optional true lengths (B); the output is zero outside each L_b×L_b block.</param>
    public Tensor forward(Tensor x, Tensor? lengths)
    {
        if (x.dim() != 3 || x.shape[2] != SequenceFeatures)
            throw new ArgumentException($"{nameof(SeparableSymmetryGeneratingConv2d)}: expected x (B, L, {SequenceFeatures}), got [{string.Join(", ", x.shape)}].", nameof(x));
        return SeparableGenerating.Forward(conv.Weight(), conv.Bias, x, lengths, Engine);
    }

    /// <summary>The output as packed symmetric maps, never building the dense (B, F, L, L) map.</summary>
    /// <param name="x">Sequence features (B, L, n).</param>
    /// <param name="lengths">Optional true lengths (B); zero outside each L_b×L_b block.</param>
    /// <param name="layout">Layout for side L (built for the widest convolution that follows); default folded with reach 0.</param>
    public Packed.PackedSymmetricMap ForwardPacked(Tensor x, Tensor? lengths = null, Packed.PackedLayout? layout = null)
    {
        if (x.dim() != 3 || x.shape[2] != SequenceFeatures)
            throw new ArgumentException($"{nameof(SeparableSymmetryGeneratingConv2d)}: expected x (B, L, {SequenceFeatures}), got [{string.Join(", ", x.shape)}].", nameof(x));
        return SeparableGenerating.ForwardPacked(conv.Weight(), conv.Bias, x, lengths, layout);
    }

    /// <summary>The dense path's conv (apply it to <c>SelfCartesian(x, lengths)</c>, then mask).</summary>
    public Conv2d ToDense() => conv.ToDense();

    /// <summary>The materialised dense kernel (F, 2n, C, C).</summary>
    public Tensor Weight() => conv.Weight();

    /// <summary>The dense path as one module: the self-Cartesian product, then the plain <see cref="Conv2d"/> (equal to <see cref="forward(Tensor)"/> without lengths).</summary>
    /// <param name="size">Ignored: the dense form does not depend on the sequence length.</param>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null) =>
        nn.Sequential(("product", new SelfCartesian()), ("conv", (nn.Module<Tensor, Tensor>)ToDense()));

    /// <param name="size">Ignored: the dense form does not depend on the sequence length.</param>
    public long DenseParameterCount(long? size = null) => conv.DenseParameterCount();

    public string InputDescription => $"(B, L, {SequenceFeatures}) sequence features, optionally with lengths (B); no self-Cartesian product is built";
    public string OutputDescription => conv.OutputDescription + ", zero outside each L_b×L_b block";
    public string SymmetryDescription => conv.SymmetryDescription;

    /// <summary>Asymmetry of the output on random sequences (Theorem 1), computed by the separable path.</summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        var theta = conv.TiedKernel.Theta;
        return PairSymmetryMeasure.OnSequences(forward, SequenceFeatures, size, theta.dtype, theta.device, generator);
    }

    public override string ToString() =>
        $"{nameof(SeparableSymmetryGeneratingConv2d)}((B, L, {SequenceFeatures}) → (B, {OutChannels}, L, L), kernel {KernelSize}; engine {Engine}; free parameters {FreeParameterCount})";
}
