namespace EquiSharp.Metrics;

/// <summary>Ranking scores of one query (e.g. one user): average precision, precision@k and recall@k for each cut-off k.</summary>
public sealed record RankingScores(double AveragePrecision, IReadOnlyList<int> Cutoffs, IReadOnlyList<double> Precision, IReadOnlyList<double> Recall);

/// <summary>Means of <see cref="RankingScores"/> over queries.</summary>
/// <param name="Count">Queries averaged (users with relevant items).</param>
/// <param name="MeanAveragePrecision">MAP.</param>
/// <param name="Cutoffs">The cut-offs k.</param>
/// <param name="Precision">Mean precision@k per cut-off.</param>
/// <param name="Recall">Mean recall@k per cut-off.</param>
public sealed record RankingSummary(int Count, double MeanAveragePrecision, IReadOnlyList<int> Cutoffs, IReadOnlyList<double> Precision, IReadOnlyList<double> Recall)
{
    /// <summary>Precision at cut-off <paramref name="k"/>.</summary>
    public double PrecisionAt(int k) => Precision[IndexOf(k)];
    /// <summary>Recall at cut-off <paramref name="k"/>.</summary>
    public double RecallAt(int k) => Recall[IndexOf(k)];

    private int IndexOf(int k)
    {
        for (int i = 0; i < Cutoffs.Count; i++) if (Cutoffs[i] == k) return i;
        throw new ArgumentException($"Cut-off {k} was not computed (have {string.Join(", ", Cutoffs)}).", nameof(k));
    }

    /// <summary>Metric dictionary for histories and the CLI's last line: map, p1, p5, …, r1, r5, … .</summary>
    public Dictionary<string, double> ToMetrics()
    {
        var m = new Dictionary<string, double> { ["map"] = MeanAveragePrecision };
        for (int i = 0; i < Cutoffs.Count; i++) m[$"p{Cutoffs[i]}"] = Precision[i];
        for (int i = 0; i < Cutoffs.Count; i++) m[$"r{Cutoffs[i]}"] = Recall[i];
        return m;
    }
}

/// <summary>
/// Top-N ranking metrics as in Caser's evaluation (used by CosRec and the SCNN paper). For one query with relevant set R
/// and a ranking of the candidates (excluded items already removed):
/// <code>
///   P@k  = |top_k ∩ R| / k
///   R@k  = |top_k ∩ R| / |R|
///   AP   = (1/|R|) · Σ_{r : ranking[r] ∈ R} |top_r ∩ R| / r      (over the full ranking, ranks r from 1)
/// </code>
/// MAP, P@k and R@k of a data set are the means over queries with a non-empty R.
/// </summary>
public static class RankingMetrics
{
    /// <summary>The cut-offs of the SCNN paper's Table I.</summary>
    public static readonly int[] DefaultCutoffs = { 1, 5, 10 };

    /// <summary>
    /// Candidates ordered by descending score, <paramref name="excluded"/> left out; ties keep the lower index first
    /// (deterministic).
    /// </summary>
    public static int[] Rank(ReadOnlySpan<float> scores, IReadOnlySet<int>? excluded = null)
    {
        var s = scores.ToArray();
        var items = Enumerable.Range(0, s.Length).Where(i => excluded is null || !excluded.Contains(i)).ToArray();
        Array.Sort(items, (a, b) => { int c = s[b].CompareTo(s[a]); return c != 0 ? c : a.CompareTo(b); });
        return items;
    }

    /// <summary>Scores one ranking against its relevant items (duplicates in <paramref name="relevant"/> count once).</summary>
    /// <param name="ranking">Candidates, best first.</param>
    /// <param name="relevant">The held-out items; must not be empty.</param>
    /// <param name="cutoffs">Cut-offs k (default 1, 5, 10).</param>
    public static RankingScores Compute(IReadOnlyList<int> ranking, IEnumerable<int> relevant, IReadOnlyList<int>? cutoffs = null)
    {
        cutoffs ??= DefaultCutoffs;
        var set = relevant as IReadOnlySet<int> ?? new HashSet<int>(relevant);
        if (set.Count == 0) throw new ArgumentException("Ranking metrics need at least one relevant item.", nameof(relevant));
        foreach (int k in cutoffs) if (k <= 0) throw new ArgumentException($"Cut-offs must be positive, got {k}.", nameof(cutoffs));
        int maxK = cutoffs.Max();
        var hitsAt = new int[maxK + 1]; // hitsAt[k] = |top_k ∩ R|
        int hits = 0;
        double apSum = 0;
        for (int r = 0; r < ranking.Count; r++)
        {
            if (set.Contains(ranking[r]))
            {
                hits++;
                apSum += (double)hits / (r + 1);
            }
            if (r + 1 <= maxK) hitsAt[r + 1] = hits;
        }
        for (int k = Math.Min(ranking.Count, maxK) + 1; k <= maxK; k++) hitsAt[k] = hits; // a ranking shorter than k
        return new RankingScores(apSum / set.Count, cutoffs.ToArray(),
            cutoffs.Select(k => (double)hitsAt[k] / k).ToArray(),
            cutoffs.Select(k => (double)hitsAt[k] / set.Count).ToArray());
    }

    /// <summary>Means over queries.</summary>
    public static RankingSummary Average(IReadOnlyList<RankingScores> scores)
    {
        if (scores.Count == 0) throw new ArgumentException("No query to average (no user has held-out items).", nameof(scores));
        var cutoffs = scores[0].Cutoffs;
        return new RankingSummary(scores.Count, scores.Average(s => s.AveragePrecision), cutoffs,
            Enumerable.Range(0, cutoffs.Count).Select(i => scores.Average(s => s.Precision[i])).ToArray(),
            Enumerable.Range(0, cutoffs.Count).Select(i => scores.Average(s => s.Recall[i])).ToArray());
    }
}
