using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Applications.Protein.Features;

/// <summary>
/// Mean-field direct coupling analysis (Morcos et al. 2011, PNAS 108:E1293). With pseudocount weight λ:
/// f_i(a) ← (1−λ) f_i(a) + λ/q, f_ij(a,b) ← (1−λ) f_ij(a,b) + λ/q² (i ≠ j), f_ii(a,b) = f_i(a) δ_ab; the connected
/// correlations C_ij(a,b) = f_ij(a,b) − f_i(a) f_j(b) over the first q−1 states (the gap state is dropped, which fixes
/// the gauge e_ij(·, gap) = 0) form a (q−1)W square matrix, and the couplings are e_ij(a,b) = −(C⁻¹)_ij(a,b)
/// (the mean-field approximation, Morcos eq. 7). The score of a column pair is the Frobenius norm of its 20 × 20
/// residue block after moving the full 21 × 21 coupling block to the zero-sum gauge
/// (e' = e − row mean − column mean + mean), then average-product corrected. C is symmetric, so is C⁻¹ and so the
/// score. The inversion runs in float64 on the given device.
/// </summary>
public static class MeanFieldDca
{
    /// <summary>Default pseudocount weight λ (as in Morcos et al.).</summary>
    public const double DefaultPseudocount = 0.5;

    /// <summary>APC-corrected Frobenius-norm coupling scores of every column pair, W × W row-major.</summary>
    public static double[] Compute(AlignmentStatistics stats, Device device, double pseudocount = DefaultPseudocount)
    {
        if (pseudocount is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(pseudocount), "Expected 0 < λ < 1 (C must be invertible).");
        int w = stats.Width, q = AlignmentStatistics.Q, r = q - 1, d = w * q, m = w * r;
        var fi = new double[w * q];
        for (int x = 0; x < fi.Length; x++) fi[x] = (1 - pseudocount) * stats.Single[x] + pseudocount / q;
        var c = new double[(long)m * m];
        for (int i = 0; i < w; i++)
            for (int a = 0; a < r; a++)
            {
                long row = (long)(i * r + a) * m;
                long pairRow = (long)(i * q + a) * d;
                for (int j = 0; j < w; j++)
                    for (int b = 0; b < r; b++)
                    {
                        double fij = i == j
                            ? (a == b ? fi[i * q + a] : 0)
                            : (1 - pseudocount) * stats.Pair[pairRow + j * q + b] + pseudocount / (q * q);
                        c[row + j * r + b] = fij - fi[i * q + a] * fi[j * q + b];
                    }
            }

        using var scope = NewDisposeScope();
        var covariance = tensor(c, [m, m], ScalarType.Float64, device);
        var couplings = -linalg.inv(covariance);
        // (W, 20, W, 20) → (W, W, 20, 20), then the gap state's zero row and column → (W, W, 21, 21).
        var blocks = couplings.reshape(w, r, w, r).permute(0, 2, 1, 3);
        var full = nn.functional.pad(blocks, [0, 1, 0, 1]);
        var zeroSum = (full - full.mean([-1], keepdim: true) - full.mean([-2], keepdim: true)).add(full.mean([-2, -1], keepdim: true), KeptScalar.One);
        var norms = zeroSum[.., .., ..r, ..r].pow(KeptScalar.Of(2)).sum([-2, -1]).sqrt();
        norms = (norms.add(norms.transpose(0, 1), KeptScalar.One)).div(KeptScalar.Of(2));   // exact symmetry despite rounding in the inverse
        double[] scores = norms.cpu().data<double>().ToArray();
        return AverageProductCorrection.Apply(scores, w);
    }
}
