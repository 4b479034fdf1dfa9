using System.Text.Json;
using System.Text.Json.Serialization;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Models;

/// <summary>One branch of a multi-kernel stage, in the JSON model description.</summary>
public sealed record RnaBranchSpec(long Kernel, long Channels);

/// <summary>
/// Everything needed to rebuild a trained model (written as <c>model.json</c> in the model directory): the variant
/// (SCNN or CNN), the architecture and the training hyperparameters it was trained with.
/// </summary>
public sealed record RnaModelSpec
{
    public const string FileName = "model.json";
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>"scnn" or "cnn".</summary>
    public string Model { get; init; } = "scnn";
    public bool Symmetric => Model == "scnn";
    public int LstmUnits { get; init; } = 75;
    public int DenseFeatures { get; init; } = 15;
    public int EncoderChannels { get; init; } = 40;
    public RnaBranchSpec[][] Stages { get; init; } = Array.Empty<RnaBranchSpec[]>();
    public int SkipChannels { get; init; } = 20;
    public int FinalKernel { get; init; } = 3;
    public PairActivation Activation { get; init; } = PairActivation.ReLU;
    /// <summary>Kernel initialisation ("glorot" or "authors"; <see cref="RnaModelConfig.Init"/>); absent in older files = glorot.</summary>
    public string Init { get; init; } = "glorot";
    /// <summary>Batch-norm ε, momentum and (CNN) statistics; absent in older files = PyTorch's defaults over whole blocks.</summary>
    public PairNormSettings Norm { get; init; } = PairNormSettings.Default;
    /// <summary>Free parameters of the built model (checked when it is rebuilt).</summary>
    public long Parameters { get; init; }
    /// <summary>Training hyperparameters as given on the command line (informative; resume reuses them).</summary>
    public Dictionary<string, string> Training { get; init; } = new();

    /// <summary>Parses "scnn" / "cnn" (case-insensitive).</summary>
    public static string ParseVariant(string text) => text.Trim().ToLowerInvariant() switch
    {
        "scnn" => "scnn",
        "cnn" => "cnn",
        _ => throw new ArgumentException($"--model {text}: expected scnn or cnn."),
    };

    public static RnaModelSpec From(string model, RnaModelConfig c) => new()
    {
        Model = ParseVariant(model),
        LstmUnits = c.LstmUnits, DenseFeatures = c.DenseFeatures, EncoderChannels = c.EncoderChannels,
        Stages = c.Stages.Select(s => s.Select(b => new RnaBranchSpec(b.Kernel, b.Channels)).ToArray()).ToArray(),
        SkipChannels = c.SkipChannels, FinalKernel = c.FinalKernel, Activation = c.Activation, Init = c.Init, Norm = c.Norm,
    };

    public RnaModelConfig ToConfig() => new()
    {
        LstmUnits = LstmUnits, DenseFeatures = DenseFeatures, EncoderChannels = EncoderChannels,
        Stages = Stages.Select(s => s.Select(b => (b.Kernel, b.Channels)).ToArray()).ToArray(),
        SkipChannels = SkipChannels, FinalKernel = FinalKernel, Activation = Activation, Init = Init, Norm = Norm,
    };

    public RnaPairModel Build(Device? device = null) => new(ToConfig(), Symmetric, device);

    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        Checkpoint.WriteTextAtomic(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Json));
    }

    public static RnaModelSpec Load(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no model description; is '{dir}' a directory written by 'equisharp rna train'?", path);
        try
        {
            var spec = JsonSerializer.Deserialize<RnaModelSpec>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty model description.");
            ParseVariant(spec.Model);
            if (spec.Stages.Length == 0) throw new InvalidDataException($"{path}: no convolution stages.");
            return spec;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}, line {(e.LineNumber ?? 0) + 1}: invalid model description ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Loads the weights of a trained model directory: the best (dev-selected) checkpoint if there is one, else the
    /// latest. Returns the model in eval mode and the checkpoint folder used.
    /// </summary>
    public static (RnaPairModel Model, RnaModelSpec Spec, string Weights) LoadModel(string dir, Device device)
    {
        var spec = Load(dir);
        var model = spec.Build(device);
        if (spec.Parameters != 0 && spec.Parameters != model.ParameterCount)
            throw new InvalidDataException($"{Path.Combine(dir, FileName)}: says {spec.Parameters} parameters but the rebuilt model has {model.ParameterCount}.");
        string? weights = Checkpoint.Locate(dir, Checkpoint.BestName) ?? Checkpoint.Locate(dir, Checkpoint.LatestName)
            ?? throw new FileNotFoundException($"{dir}: no trained weights (expected {Checkpoint.BestName}/ or {Checkpoint.LatestName}/ with model.bin).");
        Checkpoint.LoadWeights(weights, model);
        model.eval();
        return (model, spec, weights);
    }
}

/// <summary>Free-parameter counts of an <see cref="RnaPairModel"/>, by component, in our and in Keras' conventions.</summary>
public static class RnaParameterCounts
{
    /// <summary>Parameters per top-level component (lstm, dense, encoder, stages.0, …, skip, head).</summary>
    public static List<(string Component, long Count)> ByComponent(RnaPairModel model)
    {
        var groups = new List<(string, long)>();
        foreach (var (name, p) in model.named_parameters())
        {
            var parts = name.Split('.');
            string key = parts[0] == "stages" && parts.Length > 1 ? $"stages.{parts[1]}" : parts[0];
            int k = groups.FindIndex(g => g.Item1 == key);
            if (k < 0) groups.Add((key, p.numel()));
            else groups[k] = (key, groups[k].Item2 + p.numel());
        }
        return groups;
    }

    /// <summary>
    /// The count Keras would report for the same model: TorchSharp/PyTorch LSTMs have two bias vectors per gate
    /// (b_ih and b_hh), Keras one, so one 4·units bias per direction is subtracted. BN γ/β and conv biases are
    /// trainable in both frameworks and stay in.
    /// </summary>
    public static long KerasEquivalent(RnaPairModel model) =>
        model.ParameterCount - (model.Config.LstmUnits > 0 ? 2L * 4 * model.Config.LstmUnits : 0);

    /// <summary>Trainable batch-norm parameters (γ and β per channel).</summary>
    public static long BatchNormAffine(RnaPairModel model) =>
        model.modules().OfType<PairBatchNorm2d>().Sum(n => 2 * n.Channels);

    /// <summary>Convolution bias parameters.</summary>
    public static long ConvBiases(RnaPairModel model) =>
        model.modules().Sum(m => m switch
        {
            SymmetricConv2d s => s.Bias is null ? 0 : s.OutChannels,
            TorchSharp.Modules.Conv2d c => c.bias is null ? 0 : c.bias.numel(),
            _ => 0,
        });
}
