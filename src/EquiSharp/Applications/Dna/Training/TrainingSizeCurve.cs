using System.Globalization;
using EquiSharp.Training;

namespace EquiSharp.Applications.Dna.Training;

/// <summary>
/// The training-set-size curve (the paper's Fig. 6, done here on the simulation): finished runs grouped by model
/// (kind, filters, augmentation) and training fraction, with the mean, sample standard deviation, minimum and maximum of
/// a test score over the seeds of each point.
/// </summary>
public static class TrainingSizeCurve
{
    public sealed record Point(string Model, double Fraction, int Runs, double Mean, double Sd, double Min, double Max, int[] Seeds);

    /// <summary>A run's model label: "rc-20", "standard-40", "standard-20+aug".</summary>
    public static string ModelLabel(DnaTestReport r) => $"{r.Kind}-{r.Filters}{(r.Augment ? "+aug" : "")}";

    public static IReadOnlyList<Point> Summarise(IEnumerable<DnaTestReport> reports, string metric)
    {
        Func<DnaTestReport, double> value = metric switch
        {
            "auroc" => r => r.AuRoc,
            "auprc" => r => r.AuPrc,
            _ => throw new ArgumentException($"unknown metric '{metric}' (expected auroc or auprc)."),
        };
        return reports.GroupBy(r => (Model: ModelLabel(r), r.TrainFraction))
            .Select(g =>
            {
                var v = g.Select(value).ToArray();
                double mean = v.Average();
                double sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
                return new Point(g.Key.Model, g.Key.TrainFraction, v.Length, mean, sd, v.Min(), v.Max(), g.Select(r => r.Seed).OrderBy(s => s).ToArray());
            })
            .OrderBy(p => p.Model, StringComparer.Ordinal).ThenBy(p => p.Fraction).ToList();
    }

    /// <summary>One line per point: model, fraction, runs, mean ± sd, [min, max], seeds.</summary>
    public static IEnumerable<string> Table(IReadOnlyList<Point> points, string metric)
    {
        yield return $"{"model",-16} {"fraction",8} {"runs",4} {metric + " mean",11} {"sd",7} {"min",7} {"max",7}  seeds";
        foreach (var p in points)
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{p.Model,-16} {p.Fraction,8:0.###} {p.Runs,4} {p.Mean,11:0.0000} {p.Sd,7:0.0000} {p.Min,7:0.0000} {p.Max,7:0.0000}  {string.Join(",", p.Seeds)}");
    }

    /// <summary>The curve as a PNG: one line per model, mean ± sd against the training fraction (log axis).</summary>
    public static void Plot(string path, IReadOnlyList<Point> points, string metric, string title) =>
        Plots.MeanWithSpread(path,
            points.GroupBy(p => p.Model).Select(g => (g.Key, g.Select(p => p.Fraction).ToArray(), g.Select(p => p.Mean).ToArray(), g.Select(p => p.Sd).ToArray())).ToList(),
            "fraction of the training split (log scale)", $"test {metric}", title, logX: true);
}
