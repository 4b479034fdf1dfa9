namespace EquiSharp.Metrics;

/// <summary>
/// The one-sided exact Wilcoxon rank-sum (Mann–Whitney) test, as R's <c>wilcox.test(a, b, alternative = "greater",
/// exact = TRUE)</c> computes it without ties: H₁ is that values of <c>a</c> tend to be larger. The statistic is the sum
/// W of a's ranks in the pooled sample (midranks for ties); the p-value is P(W ≥ w_obs) over all C(m+n, m) equally
/// likely assignments of the pooled ranks to group a, counted exactly. With complete separation of 10 versus 10 it
/// is 1/C(20,10) = 5.4125e-06, the smallest possible (the paper's §3.8 bound). With ties the same count runs over
/// the midranks (the exact permutation distribution; R would switch to a normal approximation there).
/// </summary>
public static class RankSumTest
{
    /// <summary>Exact one-sided p-value that <paramref name="a"/> is stochastically larger than <paramref name="b"/>.</summary>
    public static double OneSidedGreater(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count == 0 || b.Count == 0) throw new ArgumentException("The rank-sum test needs at least one value in each group.");
        var pooled = a.Concat(b).ToArray();
        // midranks are multiples of ½: count with doubled ranks so sums stay integers
        var doubled = BinaryClassificationMetrics.MidRanks(pooled).Select(r => (int)Math.Round(2 * r)).ToArray();
        int m = a.Count, observed = doubled.Take(m).Sum(), maxSum = doubled.Sum();
        // ways[k, s]: subsets of size k of the ranks seen so far with doubled-rank sum s
        var ways = new double[m + 1, maxSum + 1];
        ways[0, 0] = 1;
        foreach (int r in doubled)
            for (int k = m; k >= 1; k--)
                for (int s = maxSum; s >= r; s--)
                    ways[k, s] += ways[k - 1, s - r];
        double total = 0, atLeast = 0;
        for (int s = 0; s <= maxSum; s++)
        {
            total += ways[m, s];
            if (s >= observed) atLeast += ways[m, s];
        }
        return atLeast / total;
    }
}
