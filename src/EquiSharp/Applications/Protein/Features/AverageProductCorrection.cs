namespace EquiSharp.Applications.Protein.Features;

/// <summary>
/// Average product correction (Dunn, Wahl &amp; Gloor 2008, Bioinformatics 24:333): S'_ij = S_ij − S̄_i S̄_j / S̄,
/// with S̄_i the mean of row i and S̄ the mean of all entries, both over the off-diagonal entries. It removes the
/// phylogenetic and entropic background that every pair of a column shares. Symmetric input gives symmetric output;
/// the diagonal is set to 0.
/// </summary>
public static class AverageProductCorrection
{
    /// <summary>Corrects an n × n row-major symmetric score matrix.</summary>
    public static double[] Apply(double[] scores, int n)
    {
        if (scores.Length != n * n) throw new ArgumentException($"Expected {n}×{n} scores.", nameof(scores));
        if (n < 3) return new double[n * n];
        var rowMean = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++) if (j != i) s += scores[i * n + j];
            rowMean[i] = s / (n - 1);
            total += s;
        }
        double mean = total / ((double)n * (n - 1));
        var corrected = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                corrected[i * n + j] = i == j || mean == 0 ? 0 : scores[i * n + j] - rowMean[i] * rowMean[j] / mean;
        return corrected;
    }
}
