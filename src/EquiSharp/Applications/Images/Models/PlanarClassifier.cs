using EquiSharp.Layers;
using EquiSharp.Layers.Group;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Images.Models;

/// <summary>
/// A planar image classifier built from the p4/p4m layers (or plain convolutions, for Z2): a sequence of layers
/// ending in class maps, then max pooling over the group axis and a spatial mean, so the class scores (B, classes)
/// are invariant under the group wherever every sampling grid is symmetric. Subclasses choose the layers; this class
/// holds them, counts parameters, exports the dense network and measures the invariance.
/// </summary>
public abstract class PlanarClassifier : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    private readonly nn.Module<Tensor, Tensor> body;

    public PlanarCnnSpec Spec { get; }
    public PlanarGroup Group { get; }

    /// <param name="name">Module name.</param>
    /// <param name="spec">The description saved with a trained model.</param>
    /// <param name="layers">Layers up to and including the last convolution (class maps: B, classes·|G|, H, W).</param>
    protected PlanarClassifier(string name, PlanarCnnSpec spec, List<(string, nn.Module<Tensor, Tensor>)> layers) : base(name)
    {
        Spec = spec;
        Group = PlanarGroup.Named(spec.Group);
        layers.Add(("grouppool", new GroupPool(Group, "max")));
        layers.Add(("spatialmean", nn.AdaptiveAvgPool2d(1)));
        layers.Add(("flatten", nn.Flatten()));
        body = nn.Sequential(layers);
        register_module("body", body);
    }

    /// <summary>
    /// Adds layer <paramref name="index"/>: a k×k correlation (lifting for the first, group correlation after), then
    /// group batch norm (whose shift replaces the bias) unless turned off, ReLU, and dropout when the spec has some and
    /// <paramref name="dropout"/> is set.
    /// </summary>
    protected static void AddConvBlock(List<(string, nn.Module<Tensor, Tensor>)> layers, PlanarGroup group, PlanarCnnSpec spec, int index,
        long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, bool dropout = true, Device? device = null)
    {
        if (spec.Width <= 0) throw new ArgumentException($"{spec.Model}: width must be positive, got {spec.Width}.");
        if (spec.Dropout is < 0 or >= 1) throw new ArgumentException($"{spec.Model}: dropout must be in [0, 1), got {spec.Dropout}.");
        bool bias = !spec.BatchNorm;
        layers.Add(($"conv{index}", index == 1
            ? new GroupLiftingConv2d(group, inChannels, outChannels, kernel, stride, padding, bias: bias, device: device)
            : new GroupConv2d(group, inChannels, outChannels, kernel, stride, padding, bias: bias, device: device)));
        if (spec.BatchNorm) layers.Add(($"bn{index}", new GroupBatchNorm2d(group, outChannels, device: device)));
        layers.Add(($"relu{index}", nn.ReLU()));
        if (dropout && spec.Dropout > 0) layers.Add(($"dropout{index}", nn.Dropout(spec.Dropout)));
    }

    public override Tensor forward(Tensor input) => body.forward(input);

    /// <summary>Trainable values (free parameters of the tied kernels and biases, batch-norm scales and shifts).</summary>
    public long FreeParameterCount => parameters().Sum(p => p.numel());
    /// <summary>Parameters of the plain network <see cref="ToDenseModule"/> returns.</summary>
    public long DenseParameterCount(long? size = null) => body.children().Sum(c => c is IEquivariantModule e ? e.DenseParameterCount() : c.parameters().Sum(p => p.numel()));

    /// <summary>
    /// The same network with every layer exported to plain TorchSharp modules (Conv2d, BatchNorm2d, pools), new
    /// instances throughout, returned in eval mode: the function the trained model computes at inference.
    /// </summary>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null)
    {
        var dense = nn.Sequential(body.named_children().Select(c => (c.name, c.module switch
        {
            IEquivariantModule e => e.ToDenseModule(),
            TorchSharp.Modules.ReLU => nn.ReLU(),
            TorchSharp.Modules.Dropout => nn.Dropout(Spec.Dropout),
            TorchSharp.Modules.AdaptiveAvgPool2d => nn.AdaptiveAvgPool2d(1),
            TorchSharp.Modules.Flatten => (nn.Module<Tensor, Tensor>)nn.Flatten(),
            var m => throw new InvalidOperationException($"{GetName()}: no dense form for layer '{c.name}' ({m.GetType().Name})."),
        })).ToList());
        dense.eval();
        return dense;
    }

    public abstract string InputDescription { get; }
    public string OutputDescription => $"(B, {Spec.Classes}) class scores";
    public string SymmetryDescription => Group.Order == 1 ? "translations only (Z2)" : $"class scores invariant under {Group.Name} (rotations by 90°{(Group.HasMirror ? " and mirrors" : "")})";

    /// <summary>Largest relative change of the class scores (eval mode) when the input is rotated (and mirrored).</summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        bool wasTraining = training;
        eval();
        try
        {
            var p = parameters().First();
            var x = rand(new[] { 3, Spec.InputChannels, size, size }, dtype: p.dtype, device: p.device, generator: generator);
            return GroupEquivariance.Measure(Group, forward, x, false, false, outputIsSpatial: false);   // Z2 has no generators: 0
        }
        finally { train(wasTraining); }
    }

    public override string ToString() => $"{Spec.Model.ToUpperInvariant()}({Group.Name}, width {Spec.Width}, {FreeParameterCount} parameters)";
}
