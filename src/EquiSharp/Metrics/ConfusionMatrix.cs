using System.Globalization;
using System.Text;

namespace EquiSharp.Metrics;

/// <summary>
/// Counts of (true class, predicted class) for a K-way classifier: accuracy = trace / total, per-class recall =
/// diagonal / row sum. Rows are true classes, columns predictions.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[,] counts;

    public int Classes { get; }
    public long Total { get; private set; }
    public long Correct { get; private set; }

    public ConfusionMatrix(int classes)
    {
        if (classes < 2) throw new ArgumentException($"A confusion matrix needs at least 2 classes, got {classes}.", nameof(classes));
        Classes = classes;
        counts = new long[classes, classes];
    }

    /// <summary>Examples of true class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int actual, int predicted] => counts[actual, predicted];

    /// <summary>Counts one example.</summary>
    public void Add(int actual, int predicted)
    {
        if ((uint)actual >= Classes || (uint)predicted >= Classes)
            throw new ArgumentOutOfRangeException(nameof(actual), $"Class ({actual}, {predicted}) is outside 0…{Classes - 1}.");
        counts[actual, predicted]++;
        Total++;
        if (actual == predicted) Correct++;
    }

    /// <summary>Counts a batch of examples.</summary>
    public void AddRange(IReadOnlyList<int> actual, IReadOnlyList<int> predicted)
    {
        if (actual.Count != predicted.Count) throw new ArgumentException($"{actual.Count} labels but {predicted.Count} predictions.");
        for (int i = 0; i < actual.Count; i++) Add(actual[i], predicted[i]);
    }

    /// <summary>Fraction of examples classified correctly (0 when empty).</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>Fraction of class c's examples predicted as c (NaN when the class has none).</summary>
    public double Recall(int c)
    {
        long row = 0;
        for (int p = 0; p < Classes; p++) row += counts[c, p];
        return row == 0 ? double.NaN : (double)counts[c, c] / row;
    }

    /// <summary>A text table: one row per true class, one column per prediction, then the row's recall.</summary>
    public string Format(IReadOnlyList<string>? names = null)
    {
        string Name(int c) => names is null ? c.ToString(CultureInfo.InvariantCulture) : names[c];
        int width = Math.Max(5, Enumerable.Range(0, Classes).Max(c => Math.Max(Name(c).Length, MaxCount(c).ToString(CultureInfo.InvariantCulture).Length)) + 1);
        var sb = new StringBuilder();
        sb.Append("true\\pred".PadRight(10));
        for (int p = 0; p < Classes; p++) sb.Append(Name(p).PadLeft(width));
        sb.Append("  recall\n");
        for (int a = 0; a < Classes; a++)
        {
            sb.Append(Name(a).PadRight(10));
            for (int p = 0; p < Classes; p++) sb.Append(counts[a, p].ToString(CultureInfo.InvariantCulture).PadLeft(width));
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"  {Recall(a):0.0000}\n"));
        }
        return sb.ToString();
    }

    private long MaxCount(int column)
    {
        long m = 0;
        for (int a = 0; a < Classes; a++) m = Math.Max(m, counts[a, column]);
        return m;
    }
}
