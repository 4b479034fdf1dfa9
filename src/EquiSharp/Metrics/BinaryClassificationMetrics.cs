namespace EquiSharp.Metrics;

/// <summary>
/// Ranking metrics of a binary classifier's scores. Both are NaN when the labels hold only one class (nothing to rank).
/// </summary>
public static class BinaryClassificationMetrics
{
    /// <summary>
    /// Area under the ROC curve as the Mann–Whitney statistic: the fraction of (positive, negative) pairs in which the
    /// positive scores higher, a tie counting ½. Computed from midranks: AUC = (R₊ − n₊(n₊+1)/2) / (n₊·n₋).
    /// </summary>
    public static double AuRoc(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        Check(scores, labels);
        var ranks = MidRanks(scores);
        double positiveRankSum = 0;
        long positives = 0;
        for (int i = 0; i < scores.Count; i++) if (labels[i]) { positiveRankSum += ranks[i]; positives++; }
        long negatives = scores.Count - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>
    /// Area under the precision–recall curve as average precision, the step-function definition of scikit-learn's
    /// <c>average_precision_score</c>: AP = Σ_k (R_k − R_{k−1}) P_k over the distinct score thresholds in decreasing
    /// order (equal scores enter together), with R₀ = 0; no interpolation.
    /// </summary>
    public static double AveragePrecision(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        Check(scores, labels);
        long positives = labels.Count(l => l);
        if (positives == 0 || positives == labels.Count) return double.NaN;
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        double ap = 0, previousRecall = 0;
        long tp = 0, fp = 0;
        for (int k = 0; k < order.Length;)
        {
            double threshold = scores[order[k]];
            for (; k < order.Length && scores[order[k]] == threshold; k++)
                if (labels[order[k]]) tp++; else fp++;
            double recall = (double)tp / positives, precision = (double)tp / (tp + fp);
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
        }
        return ap;
    }

    /// <summary>1-based ranks with ties given the mean of the ranks they span.</summary>
    public static double[] MidRanks(IReadOnlyList<double> values)
    {
        if (values.Any(double.IsNaN)) throw new ArgumentException("Cannot rank NaN scores.");
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double mid = (start + end) / 2.0 + 1;
            for (int j = start; j <= end; j++) ranks[order[j]] = mid;
            start = end + 1;
        }
        return ranks;
    }

    private static void Check(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        if (scores.Count != labels.Count) throw new ArgumentException($"{scores.Count} scores but {labels.Count} labels.");
    }
}
