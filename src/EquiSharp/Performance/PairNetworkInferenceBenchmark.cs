using System.Diagnostics;
using System.Globalization;
using EquiSharp.Layers.Pairwise.Network;
using static TorchSharp.torch;

namespace EquiSharp.Performance;

/// <summary>One full-length inference measurement: seconds for one sequence and the child's peak resident memory (kB).</summary>
public sealed record PairNetworkInferenceResult(int Length, string Variant, double Seconds, long PeakKb);

/// <summary>
/// Full-length inference of the paper's RNA SCNN (<see cref="PairNetworkStepWorkload.PaperSpec"/>, random weights, eval
/// mode) on one random sequence of length L, each (length, variant) in its own child process: "streamed" is what
/// <c>rna eval</c> runs (<see cref="TiledPairInference.Logits"/> with its defaults: <see cref="StreamedPairInference"/>),
/// "packed" one whole folded map per layer (<see cref="TiledInferenceOptions.Streamed"/> off), "tiled" the dense-map
/// tiled path (<see cref="TiledInferenceOptions.PackedMaps"/> off).
/// </summary>
public static class PairNetworkInferenceBenchmark
{
    /// <summary>The variants, in the order they are run.</summary>
    public static readonly IReadOnlyList<string> Variants = new[] { "streamed", "packed", "tiled" };

    private const string SecondsKey = "seconds";

    /// <param name="lengths">Sequence lengths.</param>
    /// <param name="variants">Variants to run at each length.</param>
    /// <param name="childCommand">Arguments that make this executable run <see cref="RunChild"/>; "--length L --variant V" are appended.</param>
    /// <param name="done">Called with each result.</param>
    public static IReadOnlyList<PairNetworkInferenceResult> Run(IReadOnlyList<int> lengths, IReadOnlyList<string> variants,
        IReadOnlyList<string> childCommand, Action<PairNetworkInferenceResult>? done = null)
    {
        var results = new List<PairNetworkInferenceResult>();
        foreach (int l in lengths)
            foreach (var v in variants)
            {
                var args = childCommand.Concat(new[] { "--length", l.ToString(CultureInfo.InvariantCulture), "--variant", v });
                var (output, peak) = ProcessMemory.RunChild(args, retainingAllocator: true);
                var r = new PairNetworkInferenceResult(l, v, ProcessMemory.ReadValue(output, SecondsKey) ?? double.NaN, peak);
                results.Add(r);
                done?.Invoke(r);
            }
        return results;
    }

    /// <summary>The body of a child: builds the network, predicts one sequence of <paramref name="length"/>, returns <c>seconds=&lt;x&gt;</c>.</summary>
    public static string RunChild(int length, string variant, Device device, int seed = 1)
    {
        if (!Variants.Contains(variant)) throw new ArgumentException($"unknown variant '{variant}' (expected {string.Join(", ", Variants)}).");
        manual_seed(seed);
        var net = new PairNetwork("RnaScnn", PairNetworkStepWorkload.PaperSpec(symmetric: true), device);
        var input = nn.functional.one_hot(randint(0, 4, new long[] { 1, length }, device: device), 5).to(ScalarType.Float32);
        var sw = Stopwatch.StartNew();
        using (var logits = TiledPairInference.Logits(net, input, null, new TiledInferenceOptions { PackedMaps = variant != "tiled", Streamed = variant == "streamed" }))
            _ = logits.sum().item<float>();
        return string.Create(CultureInfo.InvariantCulture, $"{SecondsKey}={sw.Elapsed.TotalSeconds:0.000}");
    }
}
