namespace EquiSharp.Metrics;

/// <summary>
/// Precision of the k highest-scoring candidates: the fraction of them that are true. Used for top-L/k contact
/// precision, and for any ranking scored by its head.
/// </summary>
public static class TopKPrecision
{
    /// <summary>
    /// Fraction of true candidates among the <paramref name="k"/> with the highest scores. Ties keep the candidates'
    /// order (stable sort), so results are reproducible. With fewer than k candidates all are used; with none the
    /// result is NaN (undefined rather than a flattering or damning 0/1).
    /// </summary>
    public static double Compute(IReadOnlyList<(double Score, bool Truth)> candidates, int k)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (candidates.Count == 0) return double.NaN;
        if (candidates.Any(c => double.IsNaN(c.Score))) throw new ArgumentException("A candidate's score is NaN.", nameof(candidates));
        var top = candidates.OrderByDescending(c => c.Score).Take(k).ToList();
        return (double)top.Count(c => c.Truth) / top.Count;
    }
}
