using EquiSharp.Applications.Protein.Metrics;
using EquiSharp.Metrics;

namespace EquiSharp.Tests.Applications.Protein;

public class ContactMetricsTests
{
    [Fact]
    public void Top_k_precision_takes_the_k_best_scores()
    {
        (double, bool)[] c = [(0.9, true), (0.1, true), (0.8, false), (0.7, true)];
        Assert.Equal(0.5, TopKPrecision.Compute(c, 2));        // 0.9 T, 0.8 F
        Assert.Equal(2.0 / 3, TopKPrecision.Compute(c, 3), 12);
        Assert.Equal(0.75, TopKPrecision.Compute(c, 10));      // all four
        Assert.True(double.IsNaN(TopKPrecision.Compute([], 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => TopKPrecision.Compute(c, 0));
    }

    [Fact]
    public void Outcomes_count_only_the_candidates()
    {
        var s = PairMetrics.FromOutcomes([(true, true), (true, false), (false, true), (false, false), (false, false)]);
        Assert.Equal(new PairScores(1, 1, 1, 2), s);
    }

    [Fact]
    public void Contact_evaluation_on_a_hand_computed_map()
    {
        // L = 30 residues, residue 29 unmapped. True contacts (i<j): (0,10), (0,25), (1,29) [unmapped], (2,5) [|i−j| < 6].
        int n = 30;
        var truth = new float[n * n];
        var score = new float[n * n];
        void Set(float[] m, int i, int j, float v) { m[i * n + j] = v; m[j * n + i] = v; }
        foreach (var (i, j) in new[] { (0, 10), (0, 25), (1, 29), (2, 5) }) Set(truth, i, j, 1);
        Set(score, 0, 25, 0.9f);    // true, long
        Set(score, 3, 28, 0.8f);    // false, long
        Set(score, 1, 29, 0.95f);   // true but unmapped: excluded
        Set(score, 2, 5, 0.99f);    // true but too near: excluded
        Set(score, 0, 10, 0.4f);    // true, medium, below threshold
        score[4 * n + 20] = 0.7f;   // non-symmetric: pair (4,20) scores (0.7 + 0) / 2 = 0.35, false
        var mask = Enumerable.Range(0, n).Select(i => i != 29).ToArray();

        var s = ContactEvaluation.Evaluate(score, truth, mask);
        Assert.Equal(29, s.Length);
        // Thresholded at 0.5 over |i−j| ≥ 6 among mapped: predicted (0,25) T, (3,28) F; missed (0,10).
        Assert.Equal(1, s.Thresholded.TP);
        Assert.Equal(1, s.Thresholded.FP);
        Assert.Equal(1, s.Thresholded.FN);
        Assert.Equal(0.5, s.Thresholded.Ppv);
        Assert.Equal(0.5, s.Thresholded.Sensitivity);
        // L/5 = 5: long (≥24) candidates ranked: (0,25) 0.9 T, (3,28) 0.8 F, then zeros (all false) → 1/5.
        Assert.Equal(0.2, s.TopL5Long, 12);
        // medium (≥12): same head, then (4,20) 0.35 F, then zeros → 1/5; short (≥6): adds (0,10) 0.4 T → 2/5.
        Assert.Equal(0.2, s.TopPrecision["top_l5_medium"], 12);
        Assert.Equal(0.4, s.TopPrecision["top_l5_short"], 12);
        // L/2 = 14 at ≥ 6: 2 true among the top 14.
        Assert.Equal(2.0 / 14, s.TopPrecision["top_l2_short"], 12);
    }
}
