using EquiSharp.Metrics;

namespace EquiSharp.Applications.Protein.Metrics;

/// <summary>Scores of one protein's predicted contact map.</summary>
/// <param name="Length">L: residues in the mask (mapped to an alignment column, with coordinates).</param>
/// <param name="Thresholded">The SCNN paper's counts on the map thresholded at 0.5, pairs |i−j| ≥ 6 only.</param>
/// <param name="TopPrecision">Top-L/k precision keyed "top_l5_long", "top_l2_medium", "top_l_short", …</param>
public sealed record ContactScores(int Length, PairScores Thresholded, IReadOnlyDictionary<string, double> TopPrecision)
{
    /// <summary>Top-L/5 precision at |i−j| ≥ 24.</summary>
    public double TopL5Long => TopPrecision["top_l5_long"];

    /// <summary>Top-L/2 precision at |i−j| ≥ 24.</summary>
    public double TopL2Long => TopPrecision["top_l2_long"];
}

/// <summary>
/// Contact metrics over the pairs i &lt; j of masked residues (unmapped residues excluded). A pair's score is the
/// mean of the map at (i, j) and (j, i), so a non-symmetric (CNN) map is judged once per pair.
/// <list type="bullet">
/// <item>The SCNN paper's PPV, sensitivity and accuracy ((PPV + sensitivity)/2, <see cref="PairScores"/>) on the map
/// thresholded at 0.5, over pairs with |i − j| ≥ 6: nearer pairs are in contact by chain geometry alone and
/// would inflate every score.</item>
/// <item>Precision of the top L/5, L/2 and L pairs by score at separations ≥ 6 ("short", i.e. short and up),
/// ≥ 12 ("medium", medium and up) and ≥ 24 ("long"); L is the number of masked residues, k = max(1, ⌊L/d⌋).</item>
/// </list>
/// </summary>
public static class ContactEvaluation
{
    /// <summary>Minimum separation of the thresholded scores.</summary>
    public const int ThresholdedMinSeparation = 6;

    /// <summary>Range names and their minimum separations.</summary>
    public static readonly (string Name, int MinSeparation)[] Ranges = [("short", 6), ("medium", 12), ("long", 24)];

    /// <summary>Top-k list sizes as divisors of L, with their names.</summary>
    public static readonly (string Name, int Divisor)[] Sizes = [("l5", 5), ("l2", 2), ("l", 1)];

    /// <summary>Scores an L × L map of predicted scores against the true contact map (1 = contact) under a residue mask.</summary>
    public static ContactScores Evaluate(float[] scores, float[] truth, bool[] mask, double threshold = 0.5)
    {
        int n = mask.Length;
        if (scores.Length != n * n || truth.Length != n * n) throw new ArgumentException($"Expected {n}×{n} maps for {n} mask entries.");
        var pairs = Pairs(scores, truth, mask, ThresholdedMinSeparation).ToList();
        var thresholded = PairMetrics.FromOutcomes(pairs.Select(p => (p.Score >= threshold, p.Truth)));
        int length = mask.Count(m => m);
        var top = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (range, minSep) in Ranges)
        {
            var candidates = pairs.Where(p => p.J - p.I >= minSep).Select(p => (p.Score, p.Truth)).ToList();
            foreach (var (size, divisor) in Sizes)
                top[$"top_{size}_{range}"] = TopKPrecision.Compute(candidates, Math.Max(1, length / divisor));
        }
        return new ContactScores(length, thresholded, top);
    }

    /// <summary>Pairs i &lt; j, both masked, j − i ≥ <paramref name="minSeparation"/>, in row order.</summary>
    private static IEnumerable<(int I, int J, double Score, bool Truth)> Pairs(float[] scores, float[] truth, bool[] mask, int minSeparation)
    {
        int n = mask.Length;
        for (int i = 0; i < n; i++)
        {
            if (!mask[i]) continue;
            for (int j = i + minSeparation; j < n; j++)
                if (mask[j]) yield return (i, j, (scores[i * n + j] + scores[j * n + i]) / 2.0, truth[i * n + j] > 0.5f);
        }
    }
}
