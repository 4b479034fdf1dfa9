using System.Globalization;

namespace EquiSharp.Applications.Protein.Evaluation;

/// <summary>
/// A per-protein, paired comparison of two predictors on one metric (the results plan: SCNN vs CNN, SCNN vs
/// DCA): over the proteins both score with a finite value, wins (a &gt; b), losses, ties and the mean of a − b.
/// </summary>
public sealed record PairedComparison(string Metric, IReadOnlyList<(string Protein, double A, double B)> Rows, int Wins, int Losses, int Ties, double MeanDifference)
{
    /// <summary>Pairs the proteins of two score tables (protein → value); proteins missing from one side or NaN on either are left out.</summary>
    public static PairedComparison Of(string metric, IReadOnlyDictionary<string, double> a, IReadOnlyDictionary<string, double> b)
    {
        var rows = a.Keys.Where(b.ContainsKey).Order(StringComparer.Ordinal)
            .Select(p => (Protein: p, A: a[p], B: b[p])).Where(r => double.IsFinite(r.A) && double.IsFinite(r.B)).ToList();
        if (rows.Count == 0) throw new ArgumentException($"No protein has a finite {metric} in both tables.");
        return new PairedComparison(metric, rows, rows.Count(r => r.A > r.B), rows.Count(r => r.A < r.B), rows.Count(r => r.A == r.B),
            rows.Average(r => r.A - r.B));
    }

    /// <summary>The summary line: <c>paired metric=… n=… wins=… losses=… ties=… mean_diff=…</c>.</summary>
    public string SummaryLine() => string.Create(CultureInfo.InvariantCulture,
        $"paired metric={Metric} n={Rows.Count} wins={Wins} losses={Losses} ties={Ties} mean_diff={MeanDifference:0.0000}");

    /// <summary>
    /// One metric column of <c>protein eval</c> tables (its output or a run's report.txt; several files are merged):
    /// rows after the header line starting with "protein", up to the mean lines.
    /// </summary>
    /// <exception cref="InvalidDataException">No table, no such column, a bad number or a protein twice (file and line named).</exception>
    public static Dictionary<string, double> ReadColumn(IEnumerable<string> paths, string metric)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            var lines = File.ReadAllLines(path);
            int header = Array.FindIndex(lines, l => l.StartsWith("protein\t", StringComparison.Ordinal));
            if (header < 0) throw new InvalidDataException($"{path}: no 'protein eval' table (no header line starting with 'protein').");
            int column = Array.IndexOf(lines[header].Split('\t'), metric);
            if (column < 0) throw new InvalidDataException($"{path}, line {header + 1}: no column '{metric}' (have {lines[header].Replace('\t', ' ')}).");
            for (int i = header + 1; i < lines.Length && !lines[i].StartsWith("mean", StringComparison.Ordinal); i++)
            {
                var cells = lines[i].Split('\t');
                if (cells.Length <= column || !double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new InvalidDataException($"{path}, line {i + 1}: expected a number in column '{metric}'.");
                if (!values.TryAdd(cells[0], v)) throw new InvalidDataException($"{path}, line {i + 1}: protein {cells[0]} appears twice.");
            }
        }
        return values;
    }
}
