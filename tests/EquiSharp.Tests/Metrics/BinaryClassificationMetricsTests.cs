using EquiSharp.Metrics;

namespace EquiSharp.Tests.Metrics;

public sealed class BinaryClassificationMetricsTests
{
    private static bool[] L(params int[] v) => v.Select(x => x == 1).ToArray();

    [Fact]
    public void HandComputedAuRocAndAveragePrecision()
    {
        // pairs (pos, neg): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 → 3/4
        double[] s = { 0.1, 0.4, 0.35, 0.8 };
        Assert.Equal(0.75, BinaryClassificationMetrics.AuRoc(s, L(0, 0, 1, 1)), 12);
        // thresholds 0.8 (P=1, R=½), 0.4 (P=½, R=½), 0.35 (P=⅔, R=1): ½·1 + 0 + ½·⅔
        Assert.Equal(0.5 + 1.0 / 3, BinaryClassificationMetrics.AveragePrecision(s, L(0, 0, 1, 1)), 12);
    }

    [Fact]
    public void TiesCountHalfAndEqualScoresEnterTogether()
    {
        Assert.Equal(0.5, BinaryClassificationMetrics.AuRoc(new[] { 0.5, 0.5 }, L(1, 0)), 12);
        // one tie among 2×2 pairs: (1 + 1 + ½ + 1)/4
        Assert.Equal(3.5 / 4, BinaryClassificationMetrics.AuRoc(new[] { 0.9, 0.5, 0.5, 0.1 }, L(1, 1, 0, 0)), 12);
        // thresholds 0.9 (P=1, R=½) and 0.5 (both enter: P=⅔, R=1): ½ + ½·⅔ — not ½ + ½·1 as splitting the tie would give
        Assert.Equal(0.5 + 1.0 / 3, BinaryClassificationMetrics.AveragePrecision(new[] { 0.9, 0.5, 0.5, 0.1 }, L(1, 1, 0, 0)), 12);
        Assert.Equal(0.5, BinaryClassificationMetrics.AveragePrecision(new[] { 0.5, 0.5 }, L(1, 0)), 12);
    }

    [Fact]
    public void OneClassGivesNaN()
    {
        Assert.True(double.IsNaN(BinaryClassificationMetrics.AuRoc(new[] { 0.1, 0.2 }, L(1, 1))));
        Assert.True(double.IsNaN(BinaryClassificationMetrics.AveragePrecision(new[] { 0.1, 0.2 }, L(0, 0))));
    }

    [Fact]
    public void ExactRankSumPValues()
    {
        var high = Enumerable.Range(11, 10).Select(v => (double)v).ToArray();
        var low = Enumerable.Range(1, 10).Select(v => (double)v).ToArray();
        Assert.Equal(1.0 / 184756, RankSumTest.OneSidedGreater(high, low), 15);   // 1/C(20,10), the paper's 5.413e-06
        Assert.Equal(1.0, RankSumTest.OneSidedGreater(low, high), 12);
        // a = {3}, b = {1, 2}: W = 3; one of three size-1 subsets reaches 3
        Assert.Equal(1.0 / 3, RankSumTest.OneSidedGreater(new[] { 3.0 }, new[] { 1.0, 2.0 }), 12);
        // a = {1, 3}, b = {2}: W = 4; subset sums 3, 4, 5 → 2/3
        Assert.Equal(2.0 / 3, RankSumTest.OneSidedGreater(new[] { 1.0, 3.0 }, new[] { 2.0 }), 12);
        // ties: pooled 1, 2, 2, 3 → ranks 1, 2.5, 2.5, 4; a = {2, 3}: W = 6.5; sums 3.5, 3.5, 5, 5, 6.5, 6.5 → 2/6
        Assert.Equal(2.0 / 6, RankSumTest.OneSidedGreater(new[] { 2.0, 3.0 }, new[] { 1.0, 2.0 }), 12);
    }
}
