using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.Applications.Recommendation.Models;
using EquiSharp.Metrics;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Recommendation.Evaluation;

/// <summary>
/// Caser's evaluation protocol (as in CosRec and the SCNN paper): for every user with items in the evaluated period,
/// score every item from the user's last L items before the period, drop the items already known (training, plus
/// validation for the test period), rank the rest and compute MAP, P@k and R@k against the period's items
/// (<see cref="RankingMetrics"/>).
/// </summary>
public static class RecommendationEvaluation
{
    /// <summary>Ranking metrics of a period, users scored in batches on <paramref name="device"/> (eval mode, no grad).</summary>
    /// <param name="model">CosRec or SCosRec; its mode is restored afterwards.</param>
    /// <param name="split">The split whose period is evaluated.</param>
    /// <param name="period">Validation (model selection) or test.</param>
    /// <param name="device">Where the model lives.</param>
    /// <param name="batchSize">Users scored per forward.</param>
    /// <param name="cutoffs">Cut-offs k (default 1, 5, 10).</param>
    public static RankingSummary Evaluate(PairwiseSequenceRecommender model, ChronologicalSplit split, EvaluationPeriod period, Device device,
        int batchSize = 1024, IReadOnlyList<int>? cutoffs = null)
    {
        if (split.Log.ItemCount != model.Config.Items)
            throw new ArgumentException($"The model scores {model.Config.Items} items, the data has {split.Log.ItemCount}.");
        int markovOrder = model.Config.MarkovOrder, items = split.Log.ItemCount;
        var users = Enumerable.Range(0, split.Log.UserCount).Where(u => split.Targets(u, period).Length > 0).ToArray();
        var scores = new List<RankingScores>(users.Length);
        bool wasTraining = model.training;
        model.eval();
        using (no_grad())
            foreach (var chunk in users.Chunk(Math.Max(1, batchSize)))
            {
                using var scope = NewDisposeScope();
                var sequences = tensor(chunk.SelectMany(u => split.InputBefore(u, period, markovOrder)).Select(i => (long)i).ToArray(),
                    new long[] { chunk.Length, markovOrder }).to(device);
                var userTensor = tensor(chunk.Select(u => (long)u).ToArray()).to(device);
                var all = model.ScoreAll(userTensor, sequences).cpu().contiguous().data<float>().ToArray();
                for (int b = 0; b < chunk.Length; b++)
                {
                    int u = chunk[b];
                    var ranking = RankingMetrics.Rank(all.AsSpan(b * items, items), split.KnownBefore(u, period));
                    scores.Add(RankingMetrics.Compute(ranking, split.Targets(u, period), cutoffs));
                }
            }
        model.train(wasTraining);
        return RankingMetrics.Average(scores);
    }

    /// <summary>The last line of <c>rec eval</c>: <c>map=… p1=… p5=… p10=… r1=… r5=… r10=…</c> (invariant culture, 4 decimals).</summary>
    public static string FormatLine(RankingSummary summary) =>
        string.Join(" ", summary.ToMetrics().Select(kv => FormattableString.Invariant($"{kv.Key}={kv.Value:0.0000}")));
}
