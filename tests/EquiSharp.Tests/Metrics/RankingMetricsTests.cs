using EquiSharp.Metrics;

namespace EquiSharp.Tests.Metrics;

public class RankingMetricsTests
{
    [Fact]
    public void HandComputedExample()
    {
        // ranking 7 3 9 1 4 2 ..., relevant {3, 4, 8}: hits at ranks 2 and 5; 8 never ranked
        var ranking = new[] { 7, 3, 9, 1, 4, 2, 0, 5, 6, 10, 11 };
        var s = RankingMetrics.Compute(ranking, new[] { 3, 4, 8 });
        Assert.Equal((1.0 / 2 + 2.0 / 5) / 3, s.AveragePrecision, 12);      // 0.3
        Assert.Equal(new[] { 0.0, 2.0 / 5, 2.0 / 10 }, s.Precision);          // P@1, P@5, P@10
        Assert.Equal(new[] { 0.0, 2.0 / 3, 2.0 / 3 }, s.Recall);              // R@1, R@5, R@10

        var t = RankingMetrics.Compute(ranking, new[] { 7 });
        Assert.Equal(1.0, t.AveragePrecision);
        var summary = RankingMetrics.Average(new[] { s, t });
        Assert.Equal(2, summary.Count);
        Assert.Equal((0.3 + 1.0) / 2, summary.MeanAveragePrecision, 12);
        Assert.Equal((0.0 + 1.0) / 2, summary.PrecisionAt(1), 12);
        Assert.Equal((2.0 / 3 + 1.0) / 2, summary.RecallAt(10), 12);
        Assert.Equal(new[] { "map", "p1", "p5", "p10", "r1", "r5", "r10" }, summary.ToMetrics().Keys);
    }

    [Fact]
    public void RankDropsExcludedItemsAndBreaksTiesByIndex()
    {
        var scores = new float[] { 0.5f, 2f, 0.5f, 3f, -1f };
        Assert.Equal(new[] { 3, 1, 0, 2, 4 }, RankingMetrics.Rank(scores));
        Assert.Equal(new[] { 1, 2, 4 }, RankingMetrics.Rank(scores, new HashSet<int> { 3, 0 }));
    }

    [Fact]
    public void PrecisionAtKDividesByKEvenWhenTheRankingIsShorter()
    {
        var s = RankingMetrics.Compute(new[] { 1, 2 }, new[] { 2 }, new[] { 1, 5 });
        Assert.Equal(new[] { 0.0, 1.0 / 5 }, s.Precision);
        Assert.Equal(new[] { 0.0, 1.0 }, s.Recall);
        Assert.Equal(0.5, s.AveragePrecision);
        Assert.Throws<ArgumentException>(() => RankingMetrics.Compute(new[] { 1 }, Array.Empty<int>()));
    }
}
