using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Group;

/// <summary>
/// Spatial max-pooling of G-feature maps (or images) that keeps equivariance: it refuses inputs whose pooling grid
/// is not symmetric. A window of side w at stride s covers rows 0…(n−1) exactly and symmetrically only when
/// (n − w) is divisible by s (the last window ends at the last row); otherwise the rows dropped at the end are not
/// dropped at the start, and a 90° rotation of the input no longer maps windows to windows (appendix B: a strided
/// pooling is a subsampling, equivariant only to the subgroup that preserves the sampling grid). The group axis is
/// untouched (channels are pooled independently), so pool(L_u f) = L_u pool(f).
/// </summary>
public sealed class GroupMaxPool2d : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    /// <summary>The group of the input feature maps (its axis is carried along).</summary>
    public PlanarGroup Group { get; }
    public long Window { get; }
    public long Stride { get; }

    /// <param name="group">Group of the input feature maps (Z2 for images).</param>
    /// <param name="window">Side of the square window.</param>
    /// <param name="stride">Stride (default: the window).</param>
    public GroupMaxPool2d(PlanarGroup group, long window, long? stride = null) : base(nameof(GroupMaxPool2d))
    {
        if (window <= 0) throw new ArgumentException($"{nameof(GroupMaxPool2d)}: window must be positive, got {window}.", nameof(window));
        if (stride is <= 0) throw new ArgumentException($"{nameof(GroupMaxPool2d)}: stride must be positive, got {stride}.", nameof(stride));
        Group = group;
        Window = window;
        Stride = stride ?? window;
    }

    /// <summary>Throws unless a side of <paramref name="size"/> pixels gives a symmetric pooling grid.</summary>
    public void CheckSize(long size, string axis)
    {
        if (size < Window || (size - Window) % Stride != 0)
            throw new ArgumentException(
                $"{GetName()}: a {Window}×{Window} window at stride {Stride} does not tile {axis} = {size} symmetrically " +
                $"((size − window) = {size - Window} is not a non-negative multiple of {Stride}); the pooled map would not rotate with the input. " +
                $"Use an input size n with (n − {Window}) divisible by {Stride}, or another window/stride.");
    }

    public override Tensor forward(Tensor input)
    {
        Group.CheckGroupChannels(input, GetName());
        CheckSize(input.shape[2], "height");
        CheckSize(input.shape[3], "width");
        return nn.functional.max_pool2d(input, new[] { Window, Window }, new[] { Stride, Stride });
    }

    public string InputDescription => $"(B, C·{Group.Order}, H, W) with (H − {Window}) and (W − {Window}) divisible by {Stride}";
    public string OutputDescription => $"(B, C·{Group.Order}, (H − {Window})/{Stride} + 1, (W − {Window})/{Stride} + 1)";
    public string SymmetryDescription => $"spatial max over a symmetric grid: pool(L_u f) = L_u pool(f) for u in {Group.Name}";
    public long FreeParameterCount => 0;
    public long DenseParameterCount(long? size = null) => 0;
    /// <summary>A plain <see cref="TorchSharp.Modules.MaxPool2d"/> (it does not check the grid).</summary>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null) => nn.MaxPool2d(new[] { Window, Window }, new[] { Stride, Stride });

    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        var x = randn(new[] { 2, 3L * Group.Order, size, size }, generator: generator);
        return GroupEquivariance.Measure(Group, forward, x, true, true);
    }

    public override string ToString() => $"{GetName()}({Group.Name}, window {Window}, stride {Stride})";
}
