using EquiSharp.Metrics;

namespace EquiSharp.Tests.Metrics;

public sealed class ConfusionMatrixTests
{
    [Fact]
    public void CountsAccuracyAndRecall()
    {
        var m = new ConfusionMatrix(3);
        m.AddRange(new[] { 0, 0, 1, 1, 2, 2 }, new[] { 0, 1, 1, 1, 0, 2 });
        Assert.Equal(6, m.Total);
        Assert.Equal(4.0 / 6, m.Accuracy, 12);
        Assert.Equal(1, m[0, 1]);
        Assert.Equal(2, m[1, 1]);
        Assert.Equal(0.5, m.Recall(0), 12);
        Assert.Equal(1.0, m.Recall(1), 12);
        var lines = m.Format().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.EndsWith("0.5000", lines[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(3, 0));
    }
}
