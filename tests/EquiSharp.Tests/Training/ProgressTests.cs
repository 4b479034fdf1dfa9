using EquiSharp.Training;

namespace EquiSharp.Tests.Training;

/// <summary>Plain-line progress (what CI and redirected output see): rate and ETA, loss only where there is one.</summary>
public sealed class ProgressTests
{
    [Fact]
    public void PlainLinesCarryRateAndEtaAndTheLossOnlyWhenThereIsOne()
    {
        var text = new StringWriter();
        var p = new PlainLineProgress(text, TimeSpan.Zero);
        p.Start("train", 4);
        p.Step(1, 0.5);
        p.Start("bench", 2);
        p.Step(1, double.NaN);
        p.Step(2, double.NaN);
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^\[train\] step 1/4 loss=0\.5000 rate=[\d.]+ steps/s eta=\d\d:\d\d:\d\d$", lines[0]);
        Assert.Matches(@"^\[bench\] step 1/2 rate=[\d.]+ steps/s eta=\d\d:\d\d:\d\d$", lines[1]);
        Assert.DoesNotContain("loss", lines[2]);
    }

    [Fact]
    public void PlainLinesAreThrottledButTheLastStepIsAlwaysPrinted()
    {
        var text = new StringWriter();
        var p = new PlainLineProgress(text, TimeSpan.FromHours(1));
        p.Start("train", 3);
        for (int i = 1; i <= 3; i++) p.Step(i, 1.0);
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length); // the first step (nothing printed yet) and the last
        Assert.Contains("step 3/3", lines[1]);
    }
}
