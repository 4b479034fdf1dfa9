using System.Globalization;
using System.Text.RegularExpressions;

namespace EquiSharp.Tests.Cli;

/// <summary>
/// `equisharp bench` at toy sizes, as a child process (the memory measurement starts grandchildren of the CLI): the
/// commands run, print a table and end with the machine-readable line the issue specifies. Only the format and the
/// plausibility of the numbers are asserted — timings belong to the benchmark, never to a test.
/// </summary>
[Collection("rna-serial")]
public sealed class BenchCommandTests
{
    private static (int Code, string Out, string Err) RunCli(params string[] args) => ChildCli.Run(args);

    private static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

    [Theory]
    [InlineData("folded")]
    [InlineData("tiled")]
    public void SymconvPrintsTimeAndMemoryRatios(string layout)
    {
        var r = RunCli("bench", "symconv", "--length", "24", "--channels", "2", "--kernel", "3", "--layers", "2", "--batch", "1",
            "--repeats", "1", "--warmup", "0", "--layout", layout, "--tile", "8");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains($"layout={layout}", r.Out);
        var m = Regex.Match(LastLine(r.Out), @"^time_ratio=(\d+\.\d{3}) memory_ratio=(\d+\.\d{3})$");
        Assert.True(m.Success, r.Out);
        Assert.True(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) > 0);
        Assert.Contains("memory_ratio with the retaining allocator", r.Out);
    }

    [Fact]
    public void GeneratingPrintsTheSpeedupLastAndRejectsABadLayout()
    {
        var r = RunCli("bench", "generating", "--length", "16", "--in", "2", "--out", "3", "--kernel", "3", "--repeats", "1", "--warmup", "0",
            "--plain", "--packed");
        Assert.True(r.Code == 0, r.Err + r.Out);
        foreach (var v in new[] { "dense", "separable", "separable-plain", "separable-packed" }) Assert.Contains(v, r.Out);
        Assert.Matches(@"^speedup=\d+\.\d{2}$", LastLine(r.Out));
        var bad = RunCli("bench", "symconv", "--length", "16", "--layout", "diagonal", "--no-memory");
        Assert.Equal(1, bad.Code);
        Assert.Contains("unknown packed layout 'diagonal'", bad.Err);
        Assert.DoesNotContain("   at ", bad.Err); // a message, not a stack trace
        var even = RunCli("bench", "generating", "--length", "8", "--kernel", "2");
        Assert.Equal(1, even.Code);
        Assert.Contains("error: SymmetryGeneratingConv2d: kernel_size must be a positive odd number", even.Err);
        Assert.DoesNotContain("   at ", even.Err);
    }
}
