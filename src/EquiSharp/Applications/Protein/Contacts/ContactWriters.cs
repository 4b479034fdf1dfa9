using System.Globalization;
using EquiSharp.Training;

namespace EquiSharp.Applications.Protein.Contacts;

/// <summary>Contact lists in the CASP RR format and contact-map figures.</summary>
public static class ContactWriters
{
    /// <summary>
    /// Writes a CASP RR contact list: PFRMAT RR, TARGET, MODEL 1, the sequence in lines of 50, one line
    /// "i j 0 8 p" per pair i &lt; j (1-based chain positions) with p ≥ <paramref name="minProbability"/>
    /// (ties broken by position), best first, then END. <paramref name="probabilities"/> is L × L row-major; a pair's
    /// probability is the mean of (i, j) and (j, i), so a non-symmetric map is scored once per pair.
    /// </summary>
    public static void WriteRr(TextWriter writer, string target, string sequence, float[] probabilities, int minSeparation = 1, double minProbability = 0)
    {
        int n = sequence.Length;
        if (probabilities.Length != n * n) throw new ArgumentException($"Expected {n}×{n} probabilities.", nameof(probabilities));
        writer.Write("PFRMAT RR\n");
        writer.Write($"TARGET {target}\n");
        writer.Write("MODEL 1\n");
        for (int s = 0; s < n; s += 50) writer.Write(sequence.Substring(s, Math.Min(50, n - s)) + "\n");
        var pairs = new List<(int I, int J, double P)>();
        for (int i = 0; i < n; i++)
            for (int j = i + Math.Max(minSeparation, 1); j < n; j++)
            {
                double p = (probabilities[i * n + j] + probabilities[j * n + i]) / 2.0;
                if (p >= minProbability && p > 0) pairs.Add((i, j, p));
            }
        foreach (var (i, j, p) in pairs.OrderByDescending(x => x.P).ThenBy(x => x.I).ThenBy(x => x.J))
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"{i + 1} {j + 1} 0 8 {p:0.000}\n"));
        writer.Write("END\n");
    }

    /// <summary>Writes a CASP RR file atomically (temporary file, then rename).</summary>
    public static void WriteRr(string path, string target, string sequence, float[] probabilities, int minSeparation = 1, double minProbability = 0)
    {
        var text = new StringWriter { NewLine = "\n" };
        WriteRr(text, target, sequence, probabilities, minSeparation, minProbability);
        Checkpoint.WriteTextAtomic(path, text.ToString());
    }

    /// <summary>A PNG of one contact (or score) map, L × L row-major.</summary>
    public static void MapPng(string path, float[] map, int length, string title) =>
        Plots.PairHeatmap(path, map, length, title);

    /// <summary>
    /// A PNG with predicted probabilities above the diagonal and the true contact map below it (the predict figure);
    /// without a structure (<paramref name="truth"/> null) the prediction fills both triangles.
    /// </summary>
    public static void PredictedVersusTruePng(string path, float[] predicted, float[]? truth, int length, string title) =>
        Plots.PairHeatmap(path, predicted, length, truth is null ? title : $"{title} (upper: predicted, lower: true)", truth);
}
