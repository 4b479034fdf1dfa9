using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Pairwise;

/// <summary>Factory functions in TorchSharp's style (PyTorch parameter names) for the symmetric pairwise layers.</summary>
public static class PairLayers
{
    /// <summary>Symmetry-generating convolution (SCNN eq. 2).</summary>
    /// <param name="in_channels">2n: channels of the self-Cartesian product (must be even).</param>
    /// <param name="out_channels">F: output feature maps.</param>
    /// <param name="kernel_size">C: odd kernel size.</param>
    /// <param name="bias">Add a per-channel bias.</param>
    /// <param name="wide">Use the widest Theorem-1 family W[i,j,k] = W[j,i,n+k] (F·n·C² free parameters) instead of the paper's.</param>
    /// <param name="device">Device for parameters.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="initialisation">Rule for the free parameters (null: <see cref="KernelInitialisation.GlorotPerFilterEntry"/>, the paper's half-Glorot).</param>
    public static SymmetryGeneratingConv2d SymmetryGeneratingConv2d(long in_channels, long out_channels, long kernel_size = 1,
        bool bias = true, bool wide = false, Device? device = null, ScalarType? dtype = null, KernelInitialisation? initialisation = null)
        => new(in_channels, out_channels, kernel_size, bias, wide, device, dtype, initialisation);

    /// <summary>Symmetry-preserving convolution (SCNN eq. 4).</summary>
    /// <param name="in_channels">m: input channels.</param>
    /// <param name="out_channels">F: output channels.</param>
    /// <param name="kernel_size">C: odd kernel size.</param>
    /// <param name="dilation">Dilation of the kernel.</param>
    /// <param name="bias">Add a per-channel bias.</param>
    /// <param name="device">Device for parameters.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="initialisation">Rule for the free parameters (null: <see cref="KernelInitialisation.GlorotPerFilterEntry"/>, the paper's half-Glorot).</param>
    public static SymmetryPreservingConv2d SymmetryPreservingConv2d(long in_channels, long out_channels, long kernel_size,
        long dilation = 1, bool bias = true, Device? device = null, ScalarType? dtype = null, KernelInitialisation? initialisation = null)
        => new(in_channels, out_channels, kernel_size, dilation, bias, device, dtype, initialisation);

    /// <summary>Multi-kernel symmetry-preserving block: branches of (kernel_size, out_channels), outputs concatenated.</summary>
    /// <param name="in_channels">m: input channels.</param>
    /// <param name="branches">(kernel_size, out_channels) of every branch, e.g. (13, 20), (9, 20), (5, 10).</param>
    /// <param name="bias">Add a per-channel bias.</param>
    /// <param name="device">Device for parameters.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public static MultiKernelSymmetricConv2d MultiKernelSymmetricConv2d(long in_channels, (long kernel_size, long out_channels)[] branches,
        bool bias = true, Device? device = null, ScalarType? dtype = null)
        => new(in_channels, branches.Select(b => (b.kernel_size, b.out_channels)).ToArray(), bias, device, dtype);

    /// <summary>Self-Cartesian product (SCNN eq. 1).</summary>
    public static SelfCartesian SelfCartesian() => new();
}
