using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Metrics;
using EquiSharp.Applications.Rna.Decoding;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Models;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Inference;

/// <summary>One evaluated or predicted sequence.</summary>
/// <param name="Record">The (possibly truncated) record; its partners are the true structure.</param>
/// <param name="Predicted">Decoded 0-based partners (-1 = unpaired).</param>
/// <param name="Scores">Scores against the record's structure.</param>
/// <param name="Seconds">Inference time (model only).</param>
public sealed record RnaPrediction(RnaStructure Record, int[] Predicted, PairScores Scores, double Seconds);

/// <summary>Full-length, one-sequence-at-a-time prediction and scoring with tiled inference (used by train's final report, eval and predict).</summary>
public static class RnaPredictor
{
    /// <summary>
    /// Truncates a record to its first <paramref name="maxLength"/> nucleotides; pairs leaving the prefix become
    /// unpaired (the same rule as training crops).
    /// </summary>
    public static RnaStructure Truncate(RnaStructure r, int? maxLength)
    {
        if (maxLength is not int m || r.Length <= m) return r;
        var partners = r.Partners.Take(m).Select(p => p >= m ? -1 : p).ToArray();
        return new RnaStructure(r.Name, r.Sequence[..m], partners);
    }

    /// <summary>The map the decoder should see: a plain CNN's upper triangle mirrored (<see cref="PairMapPolicy.DecodingMap"/>).</summary>
    public static float[] DecodingMap(RnaPairModel model, float[] probabilities, int length) =>
        PairMapPolicy.DecodingMap(model.Symmetric, probabilities, length);

    /// <summary>The model's ordinary forward pass on one sequence (eval mode, no grad); for comparison with the tiled path.</summary>
    public static float[] PlainProbabilities(RnaPairModel model, string sequence, Device device)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var grad = no_grad();
            return nn.functional.sigmoid(model.forward(RnaFeatures.OneHot(sequence, device))).cpu().data<float>().ToArray();
        }
        finally { model.train(wasTraining); }
    }

    /// <summary>Predicts, decodes and scores each record at full length (or truncated), calling <paramref name="onEach"/> after each.</summary>
    public static List<RnaPrediction> Evaluate(RnaPairModel model, IEnumerable<RnaStructure> records, GreedyDecoderOptions decoder, Device device,
        int? maxLength = null, TiledInferenceOptions? tiles = null, Action<RnaPrediction, float[]>? onEach = null)
    {
        var greedy = new GreedyPairDecoder(decoder);
        var result = new List<RnaPrediction>();
        foreach (var original in records)
        {
            var r = Truncate(original, maxLength);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var probs = tiles is { TileSize: 0 } ? PlainProbabilities(model, r.Sequence, device) : model.TiledProbabilities(r.Sequence, device, tiles);
            double seconds = clock.Elapsed.TotalSeconds;
            var predicted = greedy.Decode(DecodingMap(model, probs, r.Length), r.Length, r.Sequence);
            var p = new RnaPrediction(r, predicted, PairMetrics.Compute(predicted, r.Partners), seconds);
            result.Add(p);
            onEach?.Invoke(p, probs);
        }
        return result;
    }
}
