using ScottPlot;

namespace EquiSharp.Training;

/// <summary>PNG figures that people would rather see than read: training curves and pair-map heatmaps.</summary>
public static class Plots
{
    /// <summary>Training loss and dev metrics per epoch, one line each.</summary>
    public static void TrainingCurves(string path, IReadOnlyList<EpochRecord> history, string title)
    {
        var plot = new Plot();
        if (history.Count > 0)
        {
            double[] epochs = history.Select(h => (double)h.Epoch).ToArray();
            var loss = plot.Add.Scatter(epochs, history.Select(h => h.TrainLoss).ToArray());
            loss.LegendText = "train loss";
            foreach (var key in history[0].Dev.Keys)
            {
                var s = plot.Add.Scatter(epochs, history.Select(h => MetricOf(h, key)).ToArray());
                s.LegendText = $"dev {key}";
            }
        }
        EpochAxis(plot, title);
        SaveAtomic(plot, path, 900, 550);
    }

    /// <summary>
    /// Several runs side by side: one line per run of a dev metric (or <see cref="TrainLossMetric"/>) per epoch.
    /// </summary>
    /// <param name="path">PNG to write (atomically).</param>
    /// <param name="runs">A legend label and the epoch history of each run.</param>
    /// <param name="metric">A key of the runs' dev metrics (e.g. "acc"), or <see cref="TrainLossMetric"/>.</param>
    /// <param name="title">Figure title.</param>
    public static void CompareRuns(string path, IReadOnlyList<(string Label, IReadOnlyList<EpochRecord> History)> runs, string metric, string title)
    {
        var plot = new Plot();
        foreach (var (label, history) in runs)
        {
            if (history.Count == 0) continue;
            var s = plot.Add.Scatter(history.Select(h => (double)h.Epoch).ToArray(), history.Select(h => MetricOf(h, metric)).ToArray());
            s.LegendText = label;
        }
        EpochAxis(plot, title);
        plot.YLabel(metric == TrainLossMetric ? "train loss" : $"dev {metric}");
        SaveAtomic(plot, path, 900, 550);
    }

    /// <summary>
    /// Mean ± one standard deviation of a score against a quantity (e.g. training-set fraction), one line with error
    /// bars per series; <paramref name="logX"/> spaces the x values logarithmically (5%, 10%, 20%, … evenly).
    /// </summary>
    public static void MeanWithSpread(string path, IReadOnlyList<(string Label, double[] X, double[] Mean, double[] Sd)> series,
        string xLabel, string yLabel, string title, bool logX = false)
    {
        var plot = new Plot();
        foreach (var (label, x, mean, sd) in series)
        {
            double[] xs = logX ? x.Select(Math.Log10).ToArray() : x;
            var line = plot.Add.Scatter(xs, mean);
            line.LegendText = label;
            var bars = plot.Add.ErrorBar(xs, mean, sd);
            bars.Color = line.Color;
        }
        if (logX)
        {
            var ticks = series.SelectMany(s => s.X).Distinct().OrderBy(v => v).Select(v => new Tick(Math.Log10(v), v.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture))).ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Right);
        SaveAtomic(plot, path, 900, 550);
    }

    /// <summary>Title, an "epoch" axis with whole-number ticks, and the legend outside the data (curves rise and fall everywhere).</summary>
    private static void EpochAxis(Plot plot, string title)
    {
        plot.Title(title);
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Edge.Right);
    }

    /// <summary>The name that stands for an epoch's mean training loss where dev metrics are named.</summary>
    public const string TrainLossMetric = "train-loss";

    /// <summary>The value of a dev metric in an epoch record, or its training loss for <see cref="TrainLossMetric"/>; NaN when absent.</summary>
    public static double MetricOf(EpochRecord record, string metric) =>
        metric == TrainLossMetric ? record.TrainLoss : record.Dev.TryGetValue(metric, out var v) ? v : double.NaN;

    /// <summary>
    /// A heatmap of an L×L map (row-major). With <paramref name="lower"/>, the lower triangle shows that map instead
    /// (e.g. predicted probabilities above the diagonal, the true structure below). The diagonal (a position with
    /// itself, never a pair, and not in the loss) is left blank unless <paramref name="showDiagonal"/>.
    /// </summary>
    public static void PairHeatmap(string path, float[] upper, int length, string title, float[]? lower = null, bool showDiagonal = false)
    {
        var data = new double[length, length];
        for (int i = 0; i < length; i++)
            for (int j = 0; j < length; j++)
                data[i, j] = i == j && !showDiagonal ? double.NaN : lower is not null && i > j ? lower[i * length + j] : upper[i * length + j];
        var plot = new Plot();
        var heat = plot.Add.Heatmap(data);
        heat.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heat);
        plot.Title(title);
        plot.Axes.InvertY();
        SaveAtomic(plot, path, 800, 720);
    }

    /// <summary>
    /// Several L × L maps side by side on one colour scale (e.g. the true contacts, a CNN's and an SCNN's output), each
    /// with its label above it; row i is drawn downwards, as in a contact map.
    /// </summary>
    public static void HeatmapPanels(string path, IReadOnlyList<(string Label, float[] Map)> panels, int length, string title)
    {
        if (panels.Count == 0) throw new ArgumentException("no maps to draw.");
        double gap = Math.Max(4, length * 0.08);
        var plot = new Plot();
        ScottPlot.Plottables.Heatmap? last = null;
        for (int k = 0; k < panels.Count; k++)
        {
            var (label, map) = panels[k];
            if (map.Length != length * length) throw new ArgumentException($"map '{label}' has {map.Length} entries, expected {length}².");
            var data = new double[length, length];
            for (int i = 0; i < length; i++)
                for (int j = 0; j < length; j++)
                    data[i, j] = map[i * length + j];
            var heat = plot.Add.Heatmap(data);
            heat.Colormap = new ScottPlot.Colormaps.Viridis();
            heat.ManualRange = new ScottPlot.Range(0, 1);
            double left = k * (length + gap);
            heat.Extent = new CoordinateRect(left, left + length, 0, length);
            var text = plot.Add.Text(label, left + length / 2.0, -gap * 0.25);
            text.LabelAlignment = Alignment.LowerCenter;
            text.LabelFontSize = 14;
            last = heat;
        }
        if (last is not null) plot.Add.ColorBar(last);
        plot.Title(title);
        plot.Axes.SetLimits(-gap * 0.5, panels.Count * (length + gap) - gap * 0.5, length + gap * 0.2, -gap * 1.2);
        plot.Axes.Bottom.TickLabelStyle.IsVisible = false;
        plot.Axes.Left.TickLabelStyle.IsVisible = false;
        SaveAtomic(plot, path, 420 * panels.Count + 120, 520);
    }

    /// <summary>
    /// Sequence logos stacked top to bottom, one row per labelled matrix of letter heights (position × A, C, G, T, in
    /// bits): at each position the letters are drawn as coloured boxes stacked from the smallest to the largest, each
    /// marked with its letter (A green, C blue, G orange, T red).
    /// </summary>
    public static void SequenceLogos(string path, IReadOnlyList<(string Label, double[,] Heights)> rows, string title)
    {
        var plot = new Plot();
        var colours = new[] { Colors.Green, Colors.Blue, Colors.Orange, Colors.Red };
        const double rowHeight = 2.6;
        for (int r = 0; r < rows.Count; r++)
        {
            var (label, h) = rows[r];
            double baseY = (rows.Count - 1 - r) * rowHeight;
            var caption = plot.Add.Text(label, 0, baseY + 2.2);
            caption.LabelFontSize = 12;
            for (int i = 0; i < h.GetLength(0); i++)
            {
                double y = baseY;
                foreach (int b in Enumerable.Range(0, 4).OrderBy(b => h[i, b]))
                {
                    double height = Math.Max(0, h[i, b]);
                    if (height <= 0) continue;
                    var box = plot.Add.Rectangle(i + 0.05, i + 0.95, y, y + height);
                    box.FillStyle.Color = colours[b].WithAlpha(0.85);
                    box.LineStyle.Width = 0;
                    if (height > 0.25)
                    {
                        var letter = plot.Add.Text("ACGT"[b].ToString(), i + 0.5, y + height / 2);
                        letter.LabelAlignment = Alignment.MiddleCenter;
                        letter.LabelFontColor = Colors.White;
                        letter.LabelFontSize = (float)Math.Min(16, 8 + 8 * height);
                    }
                    y += height;
                }
            }
        }
        plot.Title(title);
        plot.Axes.Bottom.Label.Text = "position";
        plot.Axes.Left.Label.Text = "bits";
        SaveAtomic(plot, path, 1000, Math.Max(300, 150 * rows.Count));
    }

    /// <summary>Letter heights of a probability matrix (position × 4): p × information content, IC = 2 − H(p) bits.</summary>
    public static double[,] InformationHeights(double[,] probabilities)
    {
        int n = probabilities.GetLength(0);
        var h = new double[n, 4];
        for (int i = 0; i < n; i++)
        {
            double entropy = 0;
            for (int b = 0; b < 4; b++) { double p = probabilities[i, b]; if (p > 0) entropy -= p * Math.Log2(p); }
            for (int b = 0; b < 4; b++) h[i, b] = probabilities[i, b] * (2 - entropy);
        }
        return h;
    }

    private static void SaveAtomic(Plot plot, string path, int width, int height)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        string tmp = path + ".tmp.png";
        plot.SavePng(tmp, width, height);
        File.Move(tmp, path, overwrite: true);
    }
}
