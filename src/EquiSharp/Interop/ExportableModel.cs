using System.Globalization;
using System.Text.Json;
using EquiSharp.Applications.Dna.Models;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Applications.Images.Training;
using EquiSharp.Applications.Protein.Training;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Interop;

/// <summary>The model families a trained model directory can hold, as far as export is concerned.</summary>
public enum ModelFamily { Rna, Protein, Image, Dna }

/// <summary>
/// A trained model loaded from its directory (eval mode) with what an exported file records about it: kind (e.g.
/// "RnaScnn"), the symmetry it guarantees, free (tied) and dense (materialised) parameter counts and the name of the
/// training data (a file or folder name, never a machine's path). Dispose it to free the model.
/// </summary>
public sealed class ExportableModel : IDisposable
{
    public required ModelFamily Family { get; init; }
    public required nn.Module Model { get; init; }
    public required string Kind { get; init; }
    public required string Symmetry { get; init; }
    public required string TrainingData { get; init; }
    /// <summary>Where the weights came from (checkpoint folder or description).</summary>
    public required string Weights { get; init; }

    /// <summary>Trainable values of the tied model.</summary>
    public long FreeParameterCount => Model.parameters().Sum(p => p.numel());
    /// <summary>Values of the materialised plain model (what the exported graph stores).</summary>
    public long DenseParameterCount => DenseCount(Model);

    public void Dispose() => Model.Dispose();

    /// <summary>
    /// Loads the model of a directory written by <c>rna train</c>, <c>protein train</c>, <c>mnist train</c> or
    /// <c>dna train</c>, recognised by its description file (model.json / spec.json).
    /// </summary>
    public static ExportableModel Load(string dir, Device device)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: no such model directory.");
        if (File.Exists(Path.Combine(dir, DnaModelSpec.FileName))) return LoadDna(dir, device);
        string description = Path.Combine(dir, RnaModelSpec.FileName);
        if (!File.Exists(description))
            throw new FileNotFoundException($"{dir}: no model description ({RnaModelSpec.FileName} or {DnaModelSpec.FileName}); is it a directory written by a train command?", description);
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllText(description)); }
        catch (JsonException e) { throw new InvalidDataException($"{description}, line {(e.LineNumber ?? 0) + 1}: not JSON ({e.Message}).", e); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("Group", out _)) return LoadImage(dir, device);
                if (root.TryGetProperty("Split", out _)) return LoadProtein(dir, device);
                if (root.TryGetProperty("Stages", out _)) return LoadRna(dir, device);
            }
        }
        throw new InvalidDataException($"{description}: not a description of an RNA, protein, image or DNA model.");
    }

    private static ExportableModel LoadRna(string dir, Device device)
    {
        var (model, spec, weights) = RnaModelSpec.LoadModel(dir, device);
        string train = spec.Training.TryGetValue("train", out var t) ? t : "";
        return new ExportableModel
        {
            Family = ModelFamily.Rna, Model = model, Kind = model.GetName(), Weights = weights,
            Symmetry = PairSymmetry(model), TrainingData = FileNames(train),
        };
    }

    private static ExportableModel LoadProtein(string dir, Device device)
    {
        var (model, spec) = ContactTrainRun.LoadModel(dir, device);
        return new ExportableModel
        {
            Family = ModelFamily.Protein, Model = model, Kind = model.GetName(), Weights = dir,
            Symmetry = PairSymmetry(model), TrainingData = FileNames(spec.FeaturesDir),
        };
    }

    private static ExportableModel LoadImage(string dir, Device device)
    {
        var (model, weights) = ImageTrainRun.LoadTrained(dir, device);
        string settings = Path.Combine(dir, ImageTrainSettings.FileName);
        string data = "unknown";
        if (File.Exists(settings))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(settings));
            if (document.RootElement.TryGetProperty(nameof(ImageTrainSettings.DataPath), out var d)) data = FileNames(d.GetString() ?? "");
        }
        return new ExportableModel
        {
            Family = ModelFamily.Image, Model = model, Kind = model.Spec.Model.ToUpperInvariant(), Weights = weights,
            Symmetry = model.SymmetryDescription, TrainingData = data,
        };
    }

    private static ExportableModel LoadDna(string dir, Device device)
    {
        var (model, weights) = DnaModelStore.Load(dir, device);
        return new ExportableModel
        {
            Family = ModelFamily.Dna, Model = model, Kind = model.Spec.IsReverseComplement ? "DnaRc" : "DnaStandard", Weights = weights,
            Symmetry = model.Spec.IsReverseComplement ? "logits invariant under the reverse complement: f(rc(x)) = f(x) (Shrikumar et al. §3.1)" : "none (plain convolutions)",
            TrainingData = "tasks " + string.Join(",", model.Spec.TaskNames),
        };
    }

    /// <summary>The symmetry a pair network guarantees.</summary>
    public static string PairSymmetry(PairNetwork network) => network.Symmetric
        ? "symmetric pair map: logits[i,j] = logits[j,i] by construction (SCNN Theorems 1-2)"
        : "none (plain convolutions; the CNN baseline)";

    /// <summary>The file or folder names of a path list, without the folders they are in.</summary>
    private static string FileNames(string paths)
    {
        var names = paths.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(p => Path.GetFileName(p.TrimEnd('/', '\\'))).ToArray();
        return names.Length == 0 ? "unknown" : string.Join(",", names);
    }

    /// <summary>Parameters of a module's dense form: equivariant modules by their own count, others by their parameters.</summary>
    public static long DenseCount(nn.Module module) => module switch
    {
        IEquivariantModule e => e.DenseParameterCount(),
        _ => module.parameters(recurse: false).Sum(p => p.numel()) + module.children().Sum(DenseCount),
    };

    /// <summary>The metadata an exported file carries (ONNX <c>metadata_props</c>).</summary>
    public Dictionary<string, string> Metadata(string? extra = null)
    {
        var m = new Dictionary<string, string>
        {
            ["equisharp_version"] = typeof(ExportableModel).Assembly.GetName().Version?.ToString() ?? "unknown",
            ["model_kind"] = Kind,
            ["symmetry"] = Symmetry,
            ["free_parameters"] = FreeParameterCount.ToString(CultureInfo.InvariantCulture),
            ["dense_parameters"] = DenseParameterCount.ToString(CultureInfo.InvariantCulture),
            ["training_data"] = TrainingData,
        };
        if (extra is not null) m["notes"] = extra;
        return m;
    }
}
