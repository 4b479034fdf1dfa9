using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.Applications.Recommendation.Evaluation;
using EquiSharp.Applications.Recommendation.Models;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Applications.Recommendation;

public class RecommendationEvaluationTests
{
    // u0: a..j (train a..g, validation h, test i j); u1: k l m (train k l, test m). Items a..m are 0..12.
    private static ChronologicalSplit Split() => ChronologicalSplit.Create(InteractionLog.Build(InteractionReader.Parse(
        string.Join("\n", "abcdefghij".Select(c => $"u0 {c} 1").Concat("klm".Select(c => $"u1 {c} 1"))), InteractionFormat.Caser)));

    /// <summary>A model whose score of item i is −i for every user (W2 = 0, b2 = −i): the ranking is known by hand.</summary>
    private static CosRec FixedScores()
    {
        var model = new CosRec(new CosRecConfig { Users = 2, Items = 13, BlockChannels = new long[] { 4 }, FcDim = 3, EmbeddingDim = 4 });
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
            {
                if (name == "outputWeights.weight") p.zero_();
                if (name == "outputBias.weight") p.copy_(KeptScalar.Range(13, dtype: float32).neg().view(13, 1));
            }
        return model;
    }

    [Fact]
    public void TestPeriodExcludesTrainingAndValidationItemsAndRanksTheRest()
    {
        using var model = FixedScores();
        var split = Split();
        var s = RecommendationEvaluation.Evaluate(model, split, EvaluationPeriod.Test, CPU);
        // u0 ranks i j k l m (a..h known): hits at ranks 1, 2 → AP 1, P@1 1, P@5 2/5, R@1 1/2;
        // u1 ranks a..j m (k l known): its hit m is at rank 11 → AP 1/11, no hit in the top 10
        Assert.Equal(2, s.Count);
        Assert.Equal((1 + 1.0 / 11) / 2, s.MeanAveragePrecision, 6);
        Assert.Equal(new[] { 1.0 / 2, 2.0 / 5 / 2, 2.0 / 10 / 2 }, s.Precision.Select(v => Math.Round(v, 6)));
        Assert.Equal(new[] { 1.0 / 4, 1.0 / 2, 1.0 / 2 }, s.Recall.Select(v => Math.Round(v, 6)));

        var v = RecommendationEvaluation.Evaluate(model, split, EvaluationPeriod.Validation, CPU);
        Assert.Equal(1, v.Count);                      // u1 has no validation item
        Assert.Equal(1.0, v.MeanAveragePrecision, 6);  // u0: h is first once a..g are excluded
    }

    [Fact]
    public void BatchingDoesNotChangeTheMetrics()
    {
        manual_seed(11);
        using var model = new SCosRec(new CosRecConfig { Users = 2, Items = 13, BlockChannels = new long[] { 4, 6 }, FcDim = 3, EmbeddingDim = 4 });
        model.train();
        var one = RecommendationEvaluation.Evaluate(model, Split(), EvaluationPeriod.Test, CPU, batchSize: 1);
        var all = RecommendationEvaluation.Evaluate(model, Split(), EvaluationPeriod.Test, CPU, batchSize: 64);
        Assert.Equal(one.MeanAveragePrecision, all.MeanAveragePrecision, 6);
        Assert.True(model.training);                   // the caller's mode is restored
    }
}
