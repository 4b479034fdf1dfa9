namespace EquiSharp.Applications.Protein.Features;

/// <summary>
/// Mutual information between alignment columns, MI_ij = Σ_ab f_ij(a,b) ln(f_ij(a,b) / (f_i(a) f_j(b))), from the
/// reweighted frequencies without pseudocounts (21 states, gaps included), then average-product corrected. W × W,
/// symmetric because f_ij(a,b) = f_ji(b,a).
/// </summary>
public static class MutualInformation
{
    /// <summary>APC-corrected MI of every column pair, W × W row-major.</summary>
    public static double[] Compute(AlignmentStatistics stats)
    {
        int w = stats.Width, q = AlignmentStatistics.Q, d = w * q;
        var mi = new double[w * w];
        for (int i = 0; i < w; i++)
            for (int j = i + 1; j < w; j++)
            {
                double s = 0;
                for (int a = 0; a < q; a++)
                {
                    double fa = stats.Single[i * q + a];
                    if (fa <= 0) continue;
                    for (int b = 0; b < q; b++)
                    {
                        double fab = stats.Pair[(long)(i * q + a) * d + j * q + b];
                        if (fab > 0) s += fab * Math.Log(fab / (fa * stats.Single[j * q + b]));
                    }
                }
                mi[i * w + j] = mi[j * w + i] = s;
            }
        return AverageProductCorrection.Apply(mi, w);
    }
}
