using EquiSharp.Symmetry;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Group;

/// <summary>
/// A planar G-correlation (Cohen &amp; Welling 2016; paper eqs. 1–2) as a <see cref="TiedConvolution"/>: the filter
/// bank of all |G| transformed copies of the learned filters ψ is one gather of free parameters. The expanded kernel
/// has shape (F·|G|, C·|G_in|, k, k) (output channel f·|G| + g, input channel c·|G_in| + h) and is the orbit tying of
/// <see cref="PlanarGroup.KernelSymmetry"/>, so W[g, h, x] = ψ[g⁻¹h, g⁻¹x]: the spatial axes are rotated (and
/// mirrored) and the input's group axis is permuted accordingly. Each orbit has exactly |G| members, one per output
/// element g, so the free parameters are ψ itself, F·C·|G_in|·k², and ∂L/∂ψ is the orbit sum of ∂L/∂W.
/// The bias is tied too: one value per G-feature map, shared by its |G| channels — the only bias that keeps
/// equivariance (paper §2). Equivariance holds wherever the sampling grid is symmetric: 'valid' or odd-kernel 'same'
/// padding with (size + 2·pad − dilation·(k−1) − 1) divisible by the stride.
/// </summary>
public abstract class PlanarGroupConvolution : TiedConvolution, IEquivariantModule
{
    /// <summary>The output's group (and the input's, for a group convolution).</summary>
    public PlanarGroup Group { get; }
    /// <summary>True for p4→p4 / p4m→p4m, false for the lifting Z2→G.</summary>
    public bool InputHasGroupAxis { get; }
    /// <summary>Filters F (G-feature maps out).</summary>
    public long OutFeatureMaps => OutChannels / Group.Order;
    /// <summary>Input feature maps C (channels of the image, or G-feature maps).</summary>
    public long InFeatureMaps => InputHasGroupAxis ? InChannels / Group.Order : InChannels;
    /// <summary>The kernel symmetry (generators acting on out-group, in-group and spatial axes together).</summary>
    public WeightSymmetry Symmetry { get; }

    private protected PlanarGroupConvolution(string name, PlanarGroup group, bool inGroup, long inChannels, long outChannels, long kernelSize,
        long stride, ConvolutionPadding padding, long dilation, bool bias, KernelInitialisation? initialisation, Device? device, ScalarType? dtype)
        : this(name, group, inGroup, Shape(name, group, inGroup, inChannels, outChannels, kernelSize), stride, padding, dilation, bias, initialisation, device, dtype) { }

    private PlanarGroupConvolution(string name, PlanarGroup group, bool inGroup, long[] shape, long stride, ConvolutionPadding padding, long dilation,
        bool bias, KernelInitialisation? initialisation, Device? device, ScalarType? dtype)
        : base(name, 2, new OrbitTying(group.KernelSymmetry(shape, inGroup)), new[] { stride }, padding, new[] { dilation }, bias,
               bias ? new OrbitTying(group.KernelSymmetry(new[] { shape[0] }, false)) : null, initialisation, device, dtype)
    {
        Group = group;
        InputHasGroupAxis = inGroup;
        Symmetry = ((OrbitTying)TiedKernel.Tying).Symmetry;
    }

    private static long[] Shape(string name, PlanarGroup group, bool inGroup, long inChannels, long outChannels, long kernelSize)
    {
        if (inChannels <= 0) throw new ArgumentException($"{name}: in_channels must be positive, got {inChannels}.", "in_channels");
        if (outChannels <= 0) throw new ArgumentException($"{name}: out_channels must be positive, got {outChannels}.", "out_channels");
        if (kernelSize <= 0) throw new ArgumentException($"{name}: kernel_size must be positive, got {kernelSize}.", "kernel_size");
        return new[] { outChannels * group.Order, inChannels * (inGroup ? group.Order : 1), kernelSize, kernelSize };
    }

    /// <summary>A plain <see cref="Conv2d"/> with the expanded filter bank and the repeated bias.</summary>
    public new Conv2d ToDense() => (Conv2d)base.ToDense();

    public string InputDescription => InputHasGroupAxis
        ? $"(B, {InFeatureMaps}·{Group.Order}, H, W): {InFeatureMaps} {Group.Name} feature maps"
        : $"(B, {InChannels}, H, W): images (functions on Z2)";
    public string OutputDescription => $"(B, {OutFeatureMaps}·{Group.Order}, H', W'): {OutFeatureMaps} {Group.Name} feature maps, channel f·{Group.Order} + g";
    public string SymmetryDescription =>
        $"{(InputHasGroupAxis ? "group" : "lifting")} correlation (eq. {(InputHasGroupAxis ? 2 : 1)}): f(L_u x) = L_u f(x), (L_u f)(g, x) = f(u⁻¹g, u⁻¹x), for u in {Group.Name}";

    /// <summary>max over the generators of |f(L_u x) − L_u f(x)| / |L_u f(x)| on a random (2, C[·|G|], size, size) input.</summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var x = randn(new[] { 2, InChannels, size, size }, dtype: TiedKernel.Theta.dtype, device: TiedKernel.Theta.device, generator: generator);
        return GroupEquivariance.Measure(Group, forward, x, InputHasGroupAxis, true);
    }

    public override string ToString() =>
        $"{GetName()}({Group.Name}: {InFeatureMaps} → {OutFeatureMaps} feature maps; {Geometry}; free parameters {FreeParameterCount} of {DenseParameterCount})";
}

/// <summary>
/// Lifting correlation Z2 → G (paper eq. 1): [f ⋆ ψ](g, t) = Σ_y Σ_c f_c(y) ψ_c(g⁻¹(y − t)). Input (B, C, H, W)
/// images, output (B, F·|G|, H', W'); the filter for output element g is ψ transformed by g.
/// </summary>
public sealed class GroupLiftingConv2d : PlanarGroupConvolution
{
    /// <param name="group">p4 or p4m (Z2 gives a plain convolution).</param>
    /// <param name="inChannels">Image channels C.</param>
    /// <param name="outChannels">Filters F; the output has F·|G| channels.</param>
    /// <param name="kernelSize">Side of the square kernel.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="padding">'valid' (default), 'same' or explicit.</param>
    /// <param name="dilation">Dilation.</param>
    /// <param name="bias">One tied bias per G-feature map.</param>
    /// <param name="initialisation">Kernel rule (default Glorot: ties are across filters, so plain Glorot).</param>
    /// <param name="device">Device.</param>
    /// <param name="dtype">Parameter type.</param>
    public GroupLiftingConv2d(PlanarGroup group, long inChannels, long outChannels, long kernelSize, long stride = 1, ConvolutionPadding? padding = null,
        long dilation = 1, bool bias = true, KernelInitialisation? initialisation = null, Device? device = null, ScalarType? dtype = null)
        : base(nameof(GroupLiftingConv2d), group, false, inChannels, outChannels, kernelSize, stride, padding ?? ConvolutionPadding.Valid, dilation, bias,
               initialisation, device, dtype) { }
}

/// <summary>
/// Group correlation G → G (paper eq. 2): [f ⋆ ψ](g, t) = Σ_{h∈G} Σ_y Σ_c f_c(h, y) ψ_c(g⁻¹h, g⁻¹(y − t)).
/// Input (B, C·|G|, H, W), output (B, F·|G|, H', W').
/// </summary>
public sealed class GroupConv2d : PlanarGroupConvolution
{
    /// <param name="group">p4 or p4m (Z2 gives a plain convolution).</param>
    /// <param name="inChannels">Input G-feature maps C; the input has C·|G| channels.</param>
    /// <param name="outChannels">Filters F; the output has F·|G| channels.</param>
    /// <param name="kernelSize">Side of the square kernel.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="padding">'valid' (default), 'same' or explicit.</param>
    /// <param name="dilation">Dilation.</param>
    /// <param name="bias">One tied bias per G-feature map.</param>
    /// <param name="initialisation">Kernel rule (default Glorot).</param>
    /// <param name="device">Device.</param>
    /// <param name="dtype">Parameter type.</param>
    public GroupConv2d(PlanarGroup group, long inChannels, long outChannels, long kernelSize, long stride = 1, ConvolutionPadding? padding = null,
        long dilation = 1, bool bias = true, KernelInitialisation? initialisation = null, Device? device = null, ScalarType? dtype = null)
        : base(nameof(GroupConv2d), group, true, inChannels, outChannels, kernelSize, stride, padding ?? ConvolutionPadding.Valid, dilation, bias,
               initialisation, device, dtype) { }
}
