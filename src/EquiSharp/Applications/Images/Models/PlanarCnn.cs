using System.Text.Json;
using EquiSharp.Layers;
using EquiSharp.Layers.Group;
using EquiSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Images.Models;

/// <summary>
/// What a planar classifier is: its architecture and group, width (filters per group element), dropout, batch norm, classes. Saved as
/// <c>model.json</c> next to the checkpoints so <c>mnist eval</c> can rebuild it.
/// </summary>
public sealed record PlanarCnnSpec(string Model, string Group, int Width, double Dropout, bool BatchNorm, int Classes = 10, int InputChannels = 1)
{
    public const string FileName = "model.json";

    /// <summary>
    /// The three rotated-MNIST models of Cohen &amp; Welling (2016) and the p4/p4m paper: Z2CNN with 20 channels,
    /// P4CNN with 10 per element (so the parameter counts are close: √4 fewer channels, |G| = 4 times the filter
    /// depth), P4MCNN with 7 per element (|G| = 8; 7 is the width whose count is closest to P4CNN's).
    /// And All-CNN-C (Springenberg et al. 2014) for 32×32 colour images, width = channels of the first stage (the
    /// second has twice as many): 96 for Z2 as in the original; 48 per element for p4 and 34 for p4m, so that every
    /// group layer has C_in·|G|·C_out ≈ 96² (p4: 48·4·48 = 9,216 exactly; p4m: 34·8·34 = 9,248) filter weights per
    /// kernel position, as many as the Z2 layer (Cohen &amp; Welling's rule: divide the width by √|G|).
    /// </summary>
    public static PlanarCnnSpec Preset(string model, double dropout = 0.0, bool batchNorm = true) => model.ToLowerInvariant() switch
    {
        "z2cnn" => new("z2cnn", "Z2", 20, dropout, batchNorm),
        "p4cnn" => new("p4cnn", "p4", 10, dropout, batchNorm),
        "p4mcnn" => new("p4mcnn", "p4m", 7, dropout, batchNorm),
        "allcnn-z2" => new("allcnn-z2", "Z2", 96, dropout, batchNorm, InputChannels: 3),
        "allcnn-p4" => new("allcnn-p4", "p4", 48, dropout, batchNorm, InputChannels: 3),
        "allcnn-p4m" => new("allcnn-p4m", "p4m", 34, dropout, batchNorm, InputChannels: 3),
        _ => throw new ArgumentException($"Unknown model '{model}' (expected z2cnn, p4cnn, p4mcnn, allcnn-z2, allcnn-p4 or allcnn-p4m)."),
    };

    /// <summary>Whether this is an All-CNN-C (32×32 colour images) rather than a rotated-MNIST network.</summary>
    public bool IsAllCnn => Model.StartsWith("allcnn", StringComparison.Ordinal);

    /// <summary>Side of the images the model is made for (any side with symmetric grids works; this one is tested).</summary>
    public int ImageSide => IsAllCnn ? 32 : 28;

    public PlanarClassifier Build(Device? device = null) => IsAllCnn ? new AllCnnC(this, device) : new PlanarCnn(this, device);

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
public sealed class PlanarCnn : PlanarClassifier
{
    public PlanarCnn(PlanarCnnSpec spec, Device? device = null) : base(nameof(PlanarCnn), spec, Layers(spec, device)) { }

    private static List<(string, nn.Module<Tensor, Tensor>)> Layers(PlanarCnnSpec spec, Device? device)
    {
        var group = PlanarGroup.Named(spec.Group);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long w = spec.Width;
        for (int l = 1; l <= 6; l++)
        {
            AddConvBlock(layers, group, spec, l, l == 1 ? spec.InputChannels : w, w, 3, device: device);
            if (l == 2) layers.Add(("pool", new GroupMaxPool2d(group, 2)));
        }
        layers.Add(("conv7", new GroupConv2d(group, w, spec.Classes, 4, device: device)));
        return layers;
    }

    public override string InputDescription => $"(B, {Spec.InputChannels}, 28, 28) images (any n with a symmetric pooling grid: n − 4 even)";
}
