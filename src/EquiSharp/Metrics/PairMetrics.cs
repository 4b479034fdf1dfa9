namespace EquiSharp.Metrics;

/// <summary>
/// Confusion counts and scores for predicted versus true pairs (i &lt; j) of one sequence of length L.
/// TN counts the unordered pairs i &lt; j that are neither predicted nor true, out of L(L-1)/2.
/// </summary>
/// <remarks>
/// Conventions for ratios that would be 0/0:
/// <list type="bullet">
/// <item>PPV = TP/(TP+FP). With no predicted pairs it is 1 if there are no true pairs either, else 0 (predicting nothing earns no precision).</item>
/// <item>Sensitivity = TP/(TP+FN). With no true pairs it is 1 (nothing could be missed), whatever was predicted.</item>
/// <item>F1 = 2TP/(2TP+FP+FN); 1 when there are no predicted and no true pairs.</item>
/// <item>MCC: when its denominator is 0 it is 1 if there are no errors (FP = FN = 0), else 0.</item>
/// </list>
/// So no predicted and no true pairs is perfect (every score 1), pairs predicted where none exist give PPV 0,
/// sensitivity 1, F1 0, and nothing predicted where pairs exist gives PPV 0, sensitivity 0, F1 0.
/// </remarks>
public sealed record PairScores(long TP, long FP, long FN, long TN)
{
    /// <summary>Positive predictive value (precision).</summary>
    public double Ppv => TP + FP > 0 ? (double)TP / (TP + FP) : FN == 0 ? 1.0 : 0.0;

    /// <summary>Sensitivity (recall).</summary>
    public double Sensitivity => TP + FN > 0 ? (double)TP / (TP + FN) : 1.0;

    /// <summary>Accuracy as defined in the SCNN paper (section IV-B): the mean of PPV and sensitivity, not (TP+TN)/total.</summary>
    public double Accuracy => (Ppv + Sensitivity) / 2;

    /// <summary>F1 score, the harmonic mean of PPV and sensitivity.</summary>
    public double F1 => TP + FP + FN > 0 ? 2.0 * TP / (2.0 * TP + FP + FN) : 1.0;

    /// <summary>Matthews correlation coefficient.</summary>
    public double Mcc
    {
        get
        {
            // Doubles avoid overflow: the product of four sums can exceed long for long sequences.
            double denominator = Math.Sqrt((double)(TP + FP) * (TP + FN) * (TN + FP) * (TN + FN));
            if (denominator == 0) return FP == 0 && FN == 0 ? 1.0 : 0.0;
            return ((double)TP * TN - (double)FP * FN) / denominator;
        }
    }
}

/// <summary>Mean of per-sequence scores, plus the pooled confusion counts.</summary>
/// <param name="Count">Number of sequences.</param>
/// <param name="Ppv">Mean PPV.</param>
/// <param name="Sensitivity">Mean sensitivity.</param>
/// <param name="Accuracy">Mean SCNN accuracy ((PPV + sensitivity) / 2).</param>
/// <param name="F1">Mean F1.</param>
/// <param name="Mcc">Mean MCC.</param>
/// <param name="Pooled">Counts summed over all sequences (for micro-averaged scores).</param>
public sealed record PairScoreSummary(int Count, double Ppv, double Sensitivity, double Accuracy, double F1, double Mcc, PairScores Pooled);

/// <summary>Pair-prediction metrics shared by RNA base pairs and protein contacts.</summary>
public static class PairMetrics
{
    /// <summary>Scores predicted against true pairs for a sequence of <paramref name="length"/> positions.</summary>
    /// <remarks>Pairs may be given in either orientation; duplicates are counted once. Self-pairs and out-of-range indices throw.</remarks>
    public static PairScores Compute(IEnumerable<(int I, int J)> predicted, IEnumerable<(int I, int J)> truth, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var pred = Normalize(predicted, length, nameof(predicted));
        var real = Normalize(truth, length, nameof(truth));
        long tp = pred.Count(real.Contains);
        long fp = pred.Count - tp, fn = real.Count - tp;
        long all = (long)length * (length - 1) / 2;
        return new PairScores(tp, fp, fn, all - tp - fp - fn);
    }

    /// <summary>Scores two partner arrays (0-based partner per position, -1 = unpaired) of equal length.</summary>
    public static PairScores Compute(int[] predictedPartners, int[] truePartners)
    {
        ArgumentNullException.ThrowIfNull(predictedPartners);
        ArgumentNullException.ThrowIfNull(truePartners);
        if (predictedPartners.Length != truePartners.Length)
            throw new ArgumentException("Partner arrays must have the same length.", nameof(predictedPartners));
        return Compute(PairsOf(predictedPartners), PairsOf(truePartners), truePartners.Length);
    }

    /// <summary>
    /// Scores one (predicted, true) outcome per candidate pair, for when only some pairs count (e.g. contacts at
    /// |i − j| ≥ 6 between mapped residues): TN counts the candidates neither predicted nor true.
    /// </summary>
    public static PairScores FromOutcomes(IEnumerable<(bool Predicted, bool True)> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        long tp = 0, fp = 0, fn = 0, tn = 0;
        foreach (var (p, t) in outcomes)
        {
            if (p && t) tp++;
            else if (p) fp++;
            else if (t) fn++;
            else tn++;
        }
        return new PairScores(tp, fp, fn, tn);
    }

    /// <summary>Averages per-sequence scores (macro average, as in the SCNN paper) and pools the counts.</summary>
    public static PairScoreSummary Average(IEnumerable<PairScores> scores)
    {
        var list = scores.ToList();
        if (list.Count == 0) throw new ArgumentException("No scores to average.", nameof(scores));
        var pooled = new PairScores(list.Sum(s => s.TP), list.Sum(s => s.FP), list.Sum(s => s.FN), list.Sum(s => s.TN));
        return new PairScoreSummary(list.Count, list.Average(s => s.Ppv), list.Average(s => s.Sensitivity),
            list.Average(s => s.Accuracy), list.Average(s => s.F1), list.Average(s => s.Mcc), pooled);
    }

    private static IEnumerable<(int, int)> PairsOf(int[] partners)
    {
        for (int i = 0; i < partners.Length; i++)
            if (partners[i] > i) yield return (i, partners[i]);
    }

    private static HashSet<(int, int)> Normalize(IEnumerable<(int I, int J)> pairs, int length, string param)
    {
        ArgumentNullException.ThrowIfNull(pairs, param);
        var set = new HashSet<(int, int)>();
        foreach (var (a, b) in pairs)
        {
            if (a == b || a < 0 || b < 0 || a >= length || b >= length)
                throw new ArgumentException($"Pair ({a}, {b}) is invalid for length {length}.", param);
            set.Add(a < b ? (a, b) : (b, a));
        }
        return set;
    }
}
