using EquiSharp.Metrics;

namespace EquiSharp.Tests.Metrics;

public sealed class PairMetricsTests
{
    private const double Eps = 1e-12;

    [Fact]
    public void CountsAndScoresForAMixedPrediction()
    {
        // L = 6 → 15 candidate pairs; truth {(0,5),(1,4)}, predicted {(0,5),(2,3)}.
        var s = PairMetrics.Compute([(0, 5), (3, 2)], [(0, 5), (1, 4)], 6);
        Assert.Equal(new PairScores(1, 1, 1, 12), s);
        Assert.Equal(0.5, s.Ppv, Eps);
        Assert.Equal(0.5, s.Sensitivity, Eps);
        Assert.Equal(0.5, s.Accuracy, Eps);
        Assert.Equal(0.5, s.F1, Eps);
        Assert.Equal((1.0 * 12 - 1) / Math.Sqrt(2.0 * 2 * 13 * 13), s.Mcc, Eps);
    }

    /// <summary>PPV ≠ sensitivity, so accuracy (their mean, SCNN IV-B) is told apart from F1, PPV and sensitivity.</summary>
    [Fact]
    public void AccuracyIsTheMeanOfPpvAndSensitivityWhenTheyDiffer()
    {
        // L = 8 → 28 candidate pairs; truth {(0,7),(2,5),(3,4)}, predicted {(0,7),(1,6)}: TP 1, FP 1, FN 2
        var s = PairMetrics.Compute([(0, 7), (6, 1)], [(0, 7), (2, 5), (3, 4)], 8);
        Assert.Equal(new PairScores(1, 1, 2, 24), s);
        Assert.Equal(0.5, s.Ppv, Eps);
        Assert.Equal(1.0 / 3, s.Sensitivity, Eps);
        Assert.Equal(5.0 / 12, s.Accuracy, Eps);
        Assert.Equal(0.4, s.F1, Eps);
    }

    [Fact]
    public void PartnerArraysAndDuplicatesAgreeWithPairLists()
    {
        var fromArrays = PairMetrics.Compute([5, -1, 3, 2, -1, 0], [5, 4, -1, -1, 1, 0]);
        var fromPairs = PairMetrics.Compute([(0, 5), (5, 0), (2, 3)], [(0, 5), (1, 4)], 6);
        Assert.Equal(fromPairs, fromArrays);
    }

    [Fact]
    public void NothingPredictedNothingTrueIsPerfect()
    {
        var s = PairMetrics.Compute([], [], 5);
        Assert.Equal(new PairScores(0, 0, 0, 10), s);
        Assert.Equal([1.0, 1.0, 1.0, 1.0, 1.0], new[] { s.Ppv, s.Sensitivity, s.Accuracy, s.F1, s.Mcc });
    }

    [Fact]
    public void NothingPredictedButPairsExistScoresZero()
    {
        var s = PairMetrics.Compute([], [(0, 4)], 5);
        Assert.Equal(0.0, s.Ppv);
        Assert.Equal(0.0, s.Sensitivity);
        Assert.Equal(0.0, s.F1);
        Assert.Equal(0.0, s.Mcc);   // TP + FP = 0 makes the denominator 0 and FN > 0
    }

    [Fact]
    public void PredictedPairsWhenNoneAreTrue()
    {
        var s = PairMetrics.Compute([(0, 4)], [], 5);
        Assert.Equal(0.0, s.Ppv);
        Assert.Equal(1.0, s.Sensitivity);
        Assert.Equal(0.5, s.Accuracy);
        Assert.Equal(0.0, s.F1);
        Assert.Equal(0.0, s.Mcc);
    }

    [Fact]
    public void PerfectPredictionWithEveryPairTrueHasMccOne()
    {
        // L = 2: the single possible pair is true and predicted, so TN = 0 and the MCC denominator vanishes.
        var s = PairMetrics.Compute([(0, 1)], [(0, 1)], 2);
        Assert.Equal(0, s.TN);
        Assert.Equal(1.0, s.Mcc);
    }

    [Fact]
    public void MccIsMinusOneForCompletelyWrongPrediction()
    {
        // L = 3 has 3 pairs: predict exactly the two that are not true and miss the true one.
        var s = PairMetrics.Compute([(0, 1), (1, 2)], [(0, 2)], 3);
        Assert.Equal(-1.0, s.Mcc, Eps);
    }

    [Fact]
    public void AverageIsPerSequenceMeanAndPoolsCounts()
    {
        var a = PairMetrics.Compute([(0, 5)], [(0, 5)], 6);         // perfect
        var b = PairMetrics.Compute([], [(0, 5), (1, 4)], 6);       // all missed
        var summary = PairMetrics.Average([a, b]);
        Assert.Equal(2, summary.Count);
        Assert.Equal(0.5, summary.Ppv, Eps);
        Assert.Equal(0.5, summary.Sensitivity, Eps);
        Assert.Equal(0.5, summary.Accuracy, Eps);
        Assert.Equal(0.5, summary.F1, Eps);
        Assert.Equal(new PairScores(1, 0, 2, 27), summary.Pooled);
        Assert.Throws<ArgumentException>(() => PairMetrics.Average([]));
    }

    [Fact]
    public void InvalidPairsThrow()
    {
        Assert.Throws<ArgumentException>(() => PairMetrics.Compute([(1, 1)], [], 3));
        Assert.Throws<ArgumentException>(() => PairMetrics.Compute([], [(0, 3)], 3));
        Assert.Throws<ArgumentException>(() => PairMetrics.Compute([0], [-1, -1]));
    }

    [Fact]
    public void LongSequencesDoNotOverflow()
    {
        var s = PairMetrics.Compute([(0, 1)], [(0, 1)], 100_000);
        Assert.Equal(100_000L * 99_999 / 2 - 1, s.TN);
        Assert.Equal(1.0, s.Mcc, 1e-9);
    }
}
