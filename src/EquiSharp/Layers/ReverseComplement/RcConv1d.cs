using EquiSharp.Symmetry;
using EquiSharp.Verification;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers.ReverseComplement;

/// <summary>
/// Reverse-complement convolution (§3.1.1, Fig. 8): F filters of width k are applied both as given and reverse
/// complemented, giving 2F output channels with output channel o the RC of channel 2F−1−o. It is a
/// <see cref="TiedConvolution"/> whose kernel (2F, n, k) is tied by the single engine action
/// W[2F−1−o, n−1−c, k−1−t] = W[o, c, t] (<see cref="ReverseComplementTies.Kernel"/>) and whose bias is tied by
/// b[2F−1−o] = b[o]. Hence, for an RC-structured input of length L (one-hot ACGT, or a previous RC layer),
/// conv(rc(x)) = rc(conv(x)): y'[o, p] = Σ_{c,t} W[o,c,t] x[n−1−c, L−1−p−t] = y[2F−1−o, P−1−p].
/// Exact when the output positions are symmetric: 'valid' padding with (L − dilation·(k−1) − 1) divisible by the stride,
/// or 'same' with an even total padding at stride 1 (<see cref="RcLayout"/> checks whole models).
/// Parameters (§3.6.1): n·k·F weights + F biases, the same as a standard convolution with F filters; the output has
/// twice the channels. The ties are across filters, so initialisation is plain Glorot (multiplicity 1 in a filter).
/// </summary>
public sealed class RcConv1d : TiedConvolution, IEquivariantModule
{
    /// <summary>Number of distinct filters F (the output has 2F channels).</summary>
    public long Filters => OutChannels / 2;

    /// <param name="inChannels">RC-structured input channels n (4 for one-hot ACGT, 2F' after an RC layer).</param>
    /// <param name="filters">Distinct filters F.</param>
    /// <param name="kernelSize">Filter width k.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="padding">'valid' (default) or 'same' / explicit; asymmetric 'same' padding is refused.</param>
    /// <param name="dilation">Dilation.</param>
    /// <param name="bias">Whether to add a (tied) bias.</param>
    /// <param name="initialisation">Kernel initialisation (default Glorot).</param>
    /// <param name="device">Device.</param>
    /// <param name="dtype">Parameter type.</param>
    public RcConv1d(long inChannels, long filters, long kernelSize, long stride = 1, ConvolutionPadding? padding = null, long dilation = 1,
        bool bias = true, KernelInitialisation? initialisation = null, Device? device = null, ScalarType? dtype = null)
        : base(nameof(RcConv1d), 1, KernelTying(inChannels, filters, kernelSize, stride, padding ?? ConvolutionPadding.Valid, dilation),
               new[] { stride }, padding ?? ConvolutionPadding.Valid, new[] { dilation }, bias,
               bias ? new OrbitTying(ReverseComplementTies.Channels(2 * filters)) : null, initialisation, device, dtype) { }

    private static OrbitTying KernelTying(long inChannels, long filters, long kernelSize, long stride, ConvolutionPadding padding, long dilation)
    {
        ReverseComplementTies.RequireEvenChannels(nameof(RcConv1d), "in_channels", inChannels);
        if (filters <= 0) throw new ArgumentException($"{nameof(RcConv1d)}: filters must be positive, got {filters}.", nameof(filters));
        if (kernelSize <= 0) throw new ArgumentException($"{nameof(RcConv1d)}: kernel_size must be positive, got {kernelSize}.", nameof(kernelSize));
        var (before, after) = padding.Resolve(new[] { kernelSize }, new[] { dilation }, new[] { stride });
        if (before[0] != after[0])
            throw new ArgumentException($"{nameof(RcConv1d)}: padding {padding} puts {before[0]} zeros before and {after[0]} after (an even extent dilation·(k−1) = {dilation * (kernelSize - 1)}); " +
                "the reverse complement of the input would then be padded differently from the input, so outputs would not be exact reverse complements. Use an odd kernel, 'valid' or a symmetric explicit padding.", nameof(padding));
        return new OrbitTying(ReverseComplementTies.Kernel(2 * filters, inChannels, kernelSize));
    }

    /// <summary>True when an input of this length gives output positions symmetric under reversal (so rc commutes exactly).</summary>
    public bool IsExactFor(long length)
    {
        var (before, after) = Padding.Resolve(KernelSizes, Dilations, Strides);
        long span = length + before[0] + after[0] - Dilations[0] * (KernelSizes[0] - 1) - 1;
        return span >= 0 && span % Strides[0] == 0;
    }

    public new Conv1d ToDense() => (Conv1d)base.ToDense();
    public string InputDescription => $"(B, {InChannels}, L): RC-structured (one-hot ACGT, or a previous RC layer: channel i is the RC of channel {InChannels - 1}−i)";
    public string OutputDescription => $"(B, {OutChannels}, L'): channel o is the RC of channel {OutChannels - 1}−o";
    public string SymmetryDescription => "conv(rc(x)) = rc(conv(x)), rc = reverse channels and length (§3.1.1, Fig. 8)";

    /// <summary>max|conv(rc(x)) − rc(conv(x))| / max|conv(x)| on a random input whose length keeps the output positions symmetric.</summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        long length = size;
        while (!IsExactFor(length)) length++;
        var w = Weight();
        var x = randn(new[] { 3, InChannels, length }, dtype: w.dtype, device: w.device, generator: generator);
        using var _ = no_grad();
        return Deviation.Relative(forward(ReverseComplementTies.Apply(x)), ReverseComplementTies.Apply(forward(x)));
    }

    public override string ToString() => $"RcConv1d({Geometry}; {Filters} filters + their reverse complements; free parameters {FreeParameterCount} of {DenseParameterCount})";
}
