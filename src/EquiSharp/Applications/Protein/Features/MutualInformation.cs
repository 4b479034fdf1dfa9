namespace EquiSharp.Applications.Protein.Features;

/// <summary>
/// Mutual information between alignment columns, MI_ij = Σ_ab f_ij(a,b) ln(f_ij(a,b) / (f_i(a) f_j(b))), from the
/// reweighted frequencies (21 states, gaps included; by default without pseudocounts, as in Morcos et al.'s MI;
/// with weight λ they are mixed with the uniform distribution as in <see cref="MeanFieldDca"/>), then
/// average-product corrected. W × W, symmetric because f_ij(a,b) = f_ji(b,a).
/// </summary>
public static class MutualInformation
{
    /// <summary>APC-corrected MI of every column pair, W × W row-major.</summary>
    public static double[] Compute(AlignmentStatistics stats, double pseudocount = 0)
    {
        if (pseudocount is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(pseudocount), "Expected 0 ≤ λ < 1.");
        int w = stats.Width, q = AlignmentStatistics.Q, d = w * q;
        double Single(int x) => (1 - pseudocount) * stats.Single[x] + pseudocount / q;
        var mi = new double[w * w];
        for (int i = 0; i < w; i++)
            for (int j = i + 1; j < w; j++)
            {
                double s = 0;
                for (int a = 0; a < q; a++)
                {
                    double fa = Single(i * q + a);
                    if (fa <= 0) continue;
                    for (int b = 0; b < q; b++)
                    {
                        double fab = (1 - pseudocount) * stats.Pair[(long)(i * q + a) * d + j * q + b] + pseudocount / (q * q);
                        if (fab > 0) s += fab * Math.Log(fab / (fa * Single(j * q + b)));
                    }
                }
                mi[i * w + j] = mi[j * w + i] = s;
            }
        return AverageProductCorrection.Apply(mi, w);
    }
}
