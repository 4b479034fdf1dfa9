using System.Text.Json;

namespace EquiSharp.Applications.Dna.Models;

/// <summary>
/// The architecture of a DNA sequence classifier (§3.4): convolution layers (width list, stride 1, 'valid') each with
/// batch norm and ReLU, one max-pooling, then — for the RC model — an RC weighted sum and an RC dense layer, or — for
/// the standard model — a dense layer on the flattened pooled map. Saved as spec.json next to a model's weights.
/// </summary>
public sealed record DnaModelSpec
{
    /// <summary>"rc" (reverse-complement weight sharing in every layer) or "standard".</summary>
    public string Kind { get; init; } = "rc";
    /// <summary>Filters per convolution layer (the RC model's layers have twice as many output channels).</summary>
    public int Filters { get; init; } = 20;
    public int[] KernelWidths { get; init; } = { 21 };
    public int PoolWidth { get; init; } = 20;
    public int PoolStride { get; init; } = 20;
    /// <summary>Fixed input length (the weighted sum and the dense layer need one).</summary>
    public int SequenceLength { get; init; } = 200;
    /// <summary>Names of the binary tasks (one sigmoid output each).</summary>
    public string[] TaskNames { get; init; } = { "task" };
    /// <summary>Whether training reverse complements half the samples (the augmentation baseline); kept so a resumed run continues the same way.</summary>
    public bool TrainedWithAugmentation { get; init; }
    /// <summary>Fraction of the training split the run trains on (the training-set-size curve, Fig. 6); 1 = all. Absent in older specs = 1.</summary>
    public double TrainFraction { get; init; } = 1.0;

    public bool IsReverseComplement => Kind switch
    {
        "rc" => true,
        "standard" => false,
        _ => throw new ArgumentException($"Unknown model kind '{Kind}' (expected rc or standard)."),
    };

    /// <summary>The simulated-data model of §3.4.1: one convolution of width 21, pooling width and stride 20, length 200.</summary>
    public static DnaModelSpec Simulated(string kind, int filters, string[] taskNames, int length = 200) =>
        new() { Kind = kind, Filters = filters, KernelWidths = new[] { 21 }, PoolWidth = 20, PoolStride = 20, SequenceLength = length, TaskNames = taskNames };

    /// <summary>The ChIP-seq model of §3.4.2: convolutions of widths 15, 14, 14, pooling width 40 stride 20, one output, length 1000.</summary>
    public static DnaModelSpec ChipSeq(string kind, int filters, string taskName, int length = 1000) =>
        new() { Kind = kind, Filters = filters, KernelWidths = new[] { 15, 14, 14 }, PoolWidth = 40, PoolStride = 20, SequenceLength = length, TaskNames = new[] { taskName } };

    /// <summary>Length after the convolutions (each 'valid' convolution of width k removes k − 1 positions, §3.6.3).</summary>
    public int ConvolutionOutputLength => SequenceLength - KernelWidths.Sum(k => k - 1);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    public const string FileName = "spec.json";

    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Json));
    }

    /// <summary>Reads dir/spec.json with a clear error when it is missing or malformed.</summary>
    public static DnaModelSpec Load(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{dir}: not a DNA model directory (no {FileName}; train one with `equisharp dna train`).");
        try
        {
            var spec = JsonSerializer.Deserialize<DnaModelSpec>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty model spec.");
            _ = spec.IsReverseComplement;
            return spec;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a model spec (line {e.LineNumber + 1}: {e.Message})", e);
        }
    }
}
