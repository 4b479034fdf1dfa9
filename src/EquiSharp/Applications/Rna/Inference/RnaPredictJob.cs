using EquiSharp.Metrics;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Applications.Rna.Decoding;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Inference;

/// <summary>What <c>rna predict</c> does: a trained model, the queries, the decoder, tiled inference and an output folder.</summary>
/// <param name="ModelDir">Model directory written by <c>rna train</c>; null = the bundled model (<see cref="BundledRnaModel"/>).</param>
/// <param name="Queries">Sequences to predict (<see cref="RnaQueries"/>).</param>
/// <param name="Decoder">Greedy decoder settings.</param>
/// <param name="Tiles">Tiled full-length inference.</param>
/// <param name="OutputDir">Folder for one CT file and one heatmap PNG per query (created).</param>
/// <param name="Device">Device of the model.</param>
/// <param name="Engine">What computes the probabilities; null = the TorchSharp model of <paramref name="ModelDir"/> (<see cref="TorchSharpRnaEngine"/>). Disposed by the job.</param>
public sealed record RnaPredictOptions(string? ModelDir, IReadOnlyList<RnaQuery> Queries, GreedyDecoderOptions Decoder,
    TiledInferenceOptions Tiles, string OutputDir, Device Device, IRnaPairEngine? Engine = null);

/// <summary>One predicted query and the files written for it.</summary>
/// <param name="Query">The query.</param>
/// <param name="Partners">Decoded 0-based partners (−1 = unpaired).</param>
/// <param name="DotBracket">Dot-bracket of the prediction (<see cref="PredictionDotBracket"/>).</param>
/// <param name="DroppedPairs">Pairs beyond the notation's pseudoknot levels, shown as '.' (the CT file has them).</param>
/// <param name="Scores">Scores against the query's true structure, when the input had one.</param>
/// <param name="CtPath">The CT file written.</param>
/// <param name="HeatmapPath">The heatmap written (probabilities; the true structure below the diagonal when known).</param>
public sealed record RnaPredictedQuery(RnaQuery Query, int[] Partners, string DotBracket, int DroppedPairs, PairScores? Scores,
    string CtPath, string HeatmapPath);

/// <summary>
/// The <c>rna predict</c> pipeline: loads the model, and for each query computes tiled full-length pair probabilities,
/// decodes them greedily (a plain CNN's map mirrored first), and writes a CT file and a probability heatmap under a
/// file-system-safe unique name.
/// </summary>
public static class RnaPredictJob
{
    /// <param name="options">The job.</param>
    /// <param name="onEach">Called after each query (e.g. to print it as soon as it is done).</param>
    /// <returns>Every predicted query, in input order.</returns>
    public static List<RnaPredictedQuery> Run(RnaPredictOptions options, Action<RnaPredictedQuery>? onEach = null)
    {
        Directory.CreateDirectory(options.OutputDir);
        var greedy = new GreedyPairDecoder(options.Decoder);
        var engine = options.Engine ?? TorchSharpRnaEngine.Load(options.ModelDir, options.Device, options.Tiles);
        var result = new List<RnaPredictedQuery>();
        using (engine)
        {
            var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var q in options.Queries)
            {
                int length = q.Sequence.Length;
                var probs = engine.Probabilities(q.Sequence);
                var partners = greedy.Decode(PairMapPolicy.DecodingMap(engine.Symmetric, probs, length), length, q.Sequence);
                string file = UniqueFileName(q.Name, used);
                string ct = Path.Combine(options.OutputDir, file + ".ct"), png = Path.Combine(options.OutputDir, file + ".png");
                RnaFile.Write(ct, new[] { new RnaStructure(q.Name, q.Sequence, partners) }, RnaFileFormat.Ct);
                Plots.PairHeatmap(png, probs, length,
                    q.Truth is null ? $"{q.Name}: {(engine.Symmetric ? "SCNN" : "CNN")} pair probabilities"
                                    : $"{q.Name}: pair probabilities (upper) vs true structure (lower)",
                    q.Truth is null ? null : RnaFeatures.PairingMatrix(q.Truth));
                string dotBracket = PredictionDotBracket.Format(partners, out int dropped);
                var scores = q.Truth is null ? (PairScores?)null : PairMetrics.Compute(partners, q.Truth.Partners);
                var predicted = new RnaPredictedQuery(q, partners, dotBracket, dropped, scores, ct, png);
                result.Add(predicted);
                onEach?.Invoke(predicted);
            }
        }
        return result;
    }

    /// <summary>A file-system-safe base name for a record, unique among <paramref name="used"/> (which it joins).</summary>
    public static string UniqueFileName(string name, HashSet<string> used)
    {
        var invalid = Path.GetInvalidFileNameChars();
        string safe = new string(name.Select(c => invalid.Contains(c) || char.IsWhiteSpace(c) || c == '.' ? '_' : c).ToArray()).Trim('_');
        if (safe.Length == 0) safe = "seq";
        if (safe.Length > 80) safe = safe[..80];
        string candidate = safe;
        for (int k = 2; !used.Add(candidate); k++) candidate = $"{safe}_{k}";
        return candidate;
    }
}
