using EquiSharp.Symmetry;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers;

/// <summary>A 1-D convolution with any tying of its kernel (out, in, k). Input (B, in, L) → (B, out, L').</summary>
public sealed class TiedConv1d : TiedConvolution
{
    internal TiedConv1d(WeightTying kernelTying, long stride, ConvolutionPadding padding, long dilation, bool bias,
        WeightTying? biasTying, KernelInitialisation? initialisation, Device? device, ScalarType? dtype)
        : base(nameof(TiedConv1d), 1, kernelTying, new[] { stride }, padding, new[] { dilation }, bias, biasTying, initialisation, device, dtype) { }

    public override string ToString() => $"TiedConv1d({Geometry}; free parameters {FreeParameterCount} of {DenseParameterCount()})";
}

/// <summary>A 2-D convolution with any tying of its kernel (out, in, kH, kW). Input (B, in, H, W) → (B, out, H', W').</summary>
public sealed class TiedConv2d : TiedConvolution
{
    internal TiedConv2d(WeightTying kernelTying, long[] stride, ConvolutionPadding padding, long[] dilation, bool bias,
        WeightTying? biasTying, KernelInitialisation? initialisation, Device? device, ScalarType? dtype)
        : base(nameof(TiedConv2d), 2, kernelTying, stride, padding, dilation, bias, biasTying, initialisation, device, dtype) { }

    public override string ToString() => $"TiedConv2d({Geometry}; free parameters {FreeParameterCount} of {DenseParameterCount()})";
}

/// <summary>Factories with PyTorch's parameter names for convolutions whose kernels are tied by a symmetry.</summary>
public static class TiedLayers
{
    /// <summary>A 1-D convolution whose kernel (out, in, k) is tied by <paramref name="kernel_tying"/>.</summary>
    /// <param name="kernel_tying">Tying of the kernel tensor; its shape gives channels and kernel size.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="padding">'same' (<see cref="ConvolutionPadding.Same"/>), 'valid' or an explicit amount.</param>
    /// <param name="dilation">Dilation.</param>
    /// <param name="bias">Whether to add a bias.</param>
    /// <param name="bias_tying">Tying of the bias (out), or null for an untied bias.</param>
    /// <param name="initialisation">Kernel initialisation rule (default Glorot per filter entry).</param>
    /// <param name="device">Device.</param>
    /// <param name="dtype">Parameter type.</param>
    public static TiedConv1d TiedConv1d(WeightTying kernel_tying, long stride = 1, ConvolutionPadding? padding = null, long dilation = 1,
        bool bias = true, WeightTying? bias_tying = null, KernelInitialisation? initialisation = null, Device? device = null, ScalarType? dtype = null)
        => new(kernel_tying, stride, padding ?? ConvolutionPadding.Valid, dilation, bias, bias_tying, initialisation, device, dtype);

    /// <summary>A 2-D convolution whose kernel (out, in, kH, kW) is tied by <paramref name="kernel_tying"/>.</summary>
    /// <param name="kernel_tying">Tying of the kernel tensor; its shape gives channels and kernel size.</param>
    /// <param name="stride">Stride (one value, or one per axis).</param>
    /// <param name="padding">'same', 'valid' or explicit amounts.</param>
    /// <param name="dilation">Dilation (one value, or one per axis).</param>
    /// <param name="bias">Whether to add a bias.</param>
    /// <param name="bias_tying">Tying of the bias (out), or null for an untied bias.</param>
    /// <param name="initialisation">Kernel initialisation rule (default Glorot per filter entry).</param>
    /// <param name="device">Device.</param>
    /// <param name="dtype">Parameter type.</param>
    public static TiedConv2d TiedConv2d(WeightTying kernel_tying, long[]? stride = null, ConvolutionPadding? padding = null, long[]? dilation = null,
        bool bias = true, WeightTying? bias_tying = null, KernelInitialisation? initialisation = null, Device? device = null, ScalarType? dtype = null)
        => new(kernel_tying, stride ?? new[] { 1L }, padding ?? ConvolutionPadding.Valid, dilation ?? new[] { 1L }, bias, bias_tying, initialisation, device, dtype);
}
