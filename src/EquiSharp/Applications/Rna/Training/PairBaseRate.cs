using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Applications.Rna.Training;

/// <summary>
/// The base rate of pairs among the supervised entries of random training crops, and the output bias it gives.
/// The loss averages over the strict upper triangle of every window (SCNN IV-B), so the rate is a ratio of sums:
/// p = Σ_r E[pairs inside a crop of r] / Σ_r w_r(w_r − 1)/2, with w_r = min(L_r, crop). A window of a longer record
/// starts uniformly in [0, L − crop] (as <see cref="RnaTrainingTask"/> draws it), so pair (i, j) lies inside for the
/// max(0, min(i, L − crop) − max(0, j − crop + 1) + 1) starts that hold it. Exact; no sampling.
/// </summary>
public static class PairBaseRate
{
    /// <summary>Expected fraction of positive entries among the entries i &lt; j of random crops of <paramref name="crop"/> nt.</summary>
    public static double OfCrops(IReadOnlyList<RnaStructure> records, int crop)
    {
        if (crop <= 1) throw new ArgumentException($"A crop of {crop} nt has no pairs (i < j) to count.");
        double pairs = 0, entries = 0;
        foreach (var r in records)
        {
            int l = r.Length, w = Math.Min(l, crop);
            entries += w * (w - 1.0) / 2;
            if (l <= crop) { pairs += r.PairCount; continue; }
            int starts = l - crop + 1;
            foreach (var (i, j) in r.Pairs())
                pairs += Math.Max(0, Math.Min(i, l - crop) - Math.Max(0, j - crop + 1) + 1) / (double)starts;
        }
        if (entries == 0) throw new ArgumentException("No training record has two or more nucleotides: there is no base rate of pairs.");
        return pairs / entries;
    }

    /// <summary>log(p / (1 − p)): the logit whose sigmoid is p.</summary>
    public static double Logit(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentException($"The base rate of pairs is {p}: no logit (the training crops hold {(p <= 0 ? "no pairs" : "only pairs")}).");
        return Math.Log(p / (1 - p));
    }
}

/// <summary>Where the output logits start (<c>--output-bias</c>).</summary>
public enum OutputBias
{
    /// <summary>The final batch norm's β starts at 0: every pair probability starts near ½.</summary>
    Zero,
    /// <summary>β starts at logit(p), p = <see cref="PairBaseRate.OfCrops"/> of the first crop: the mean output is the base rate.</summary>
    BaseRate,
}
