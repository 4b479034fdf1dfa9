using System.Text.Json;
using EquiSharp.Layers;
using EquiSharp.Layers.Group;
using EquiSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Images.Models;

/// <summary>
/// What a planar classifier is: its group, width (filters per group element), dropout, batch norm, classes. Saved as
/// <c>model.json</c> next to the checkpoints so <c>mnist eval</c> can rebuild it.
/// </summary>
public sealed record PlanarCnnSpec(string Model, string Group, int Width, double Dropout, bool BatchNorm, int Classes = 10, int InputChannels = 1)
{
    public const string FileName = "model.json";

    /// <summary>
    /// The three rotated-MNIST models of Cohen &amp; Welling (2016) and the p4/p4m paper: Z2CNN with 20 channels,
    /// P4CNN with 10 per element (so the parameter counts are close: √4 fewer channels, |G| = 4 times the filter
    /// depth), P4MCNN with 7 per element (|G| = 8; 7 is the width whose count is closest to P4CNN's).
    /// </summary>
    public static PlanarCnnSpec Preset(string model, double dropout = 0.0, bool batchNorm = true) => model.ToLowerInvariant() switch
    {
        "z2cnn" => new("z2cnn", "Z2", 20, dropout, batchNorm),
        "p4cnn" => new("p4cnn", "p4", 10, dropout, batchNorm),
        "p4mcnn" => new("p4mcnn", "p4m", 7, dropout, batchNorm),
        _ => throw new ArgumentException($"Unknown model '{model}' (expected z2cnn, p4cnn or p4mcnn)."),
    };

    public PlanarCnn Build(Device? device = null) => new(this, device);

    public void Save(string dir) => Checkpoint.WriteTextAtomic(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));

    public static PlanarCnnSpec Load(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no model description (is {dir} a 'mnist train' output directory?).", path);
        try
        {
            return JsonSerializer.Deserialize<PlanarCnnSpec>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty model description.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: line {e.LineNumber + 1}: not a model description ({e.Message})", e);
        }
    }
}

/// <summary>
/// Z2CNN / P4CNN / P4MCNN (Cohen &amp; Welling 2016, rotated MNIST): seven 'valid' 3×3 correlations (the last 4×4)
/// — a lifting layer, then group correlations, each followed by group batch norm, ReLU and dropout except the last —
/// with a 2×2 spatial max-pool after layer 2 (28 → 26 → 24 → 12 → 10 → 8 → 6 → 4 → 1), then max pooling over the
/// group axis and a spatial mean: class scores (B, classes) that are invariant under the group (exactly, in eval
/// mode, for inputs whose size keeps every grid symmetric, e.g. 28×28). For the group Z2 every layer is a plain
/// convolution and the network is the Z2CNN baseline.
/// </summary>
public sealed class PlanarCnn : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    private readonly nn.Module<Tensor, Tensor> body;

    public PlanarCnnSpec Spec { get; }
    public PlanarGroup Group { get; }

    public PlanarCnn(PlanarCnnSpec spec, Device? device = null) : base(nameof(PlanarCnn))
    {
        if (spec.Width <= 0) throw new ArgumentException($"{spec.Model}: width must be positive, got {spec.Width}.");
        if (spec.Dropout is < 0 or >= 1) throw new ArgumentException($"{spec.Model}: dropout must be in [0, 1), got {spec.Dropout}.");
        Spec = spec;
        Group = PlanarGroup.Named(spec.Group);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long w = spec.Width;
        bool bias = !spec.BatchNorm;   // batch norm's shift replaces the bias
        for (int l = 1; l <= 6; l++)
        {
            layers.Add(($"conv{l}", l == 1
                ? new GroupLiftingConv2d(Group, spec.InputChannels, w, 3, bias: bias, device: device)
                : new GroupConv2d(Group, w, w, 3, bias: bias, device: device)));
            if (spec.BatchNorm) layers.Add(($"bn{l}", new GroupBatchNorm2d(Group, w, device: device)));
            layers.Add(($"relu{l}", nn.ReLU()));
            if (spec.Dropout > 0) layers.Add(($"dropout{l}", nn.Dropout(spec.Dropout)));
            if (l == 2) layers.Add(("pool", new GroupMaxPool2d(Group, 2)));
        }
        layers.Add(("conv7", new GroupConv2d(Group, w, spec.Classes, 4, device: device)));
        layers.Add(("grouppool", new GroupPool(Group, "max")));
        layers.Add(("spatialmean", nn.AdaptiveAvgPool2d(1)));
        layers.Add(("flatten", nn.Flatten()));
        body = nn.Sequential(layers);
        register_module("body", body);
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

    public string InputDescription => $"(B, {Spec.InputChannels}, 28, 28) images (any n with a symmetric pooling grid: n − 4 even)";
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
