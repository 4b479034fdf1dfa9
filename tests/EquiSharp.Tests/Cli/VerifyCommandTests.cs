using System.Text.RegularExpressions;
using EquiSharp.Cli.Commands;

namespace EquiSharp.Tests.Cli;

/// <summary><c>equisharp verify</c> as a user runs it (console captured, so in the "Console" collection).</summary>
[Collection("Console")]
public sealed class VerifyCommandTests
{
    private static readonly Regex Line = new(@"^(?<name>.+?)  max_dev=(?<dev>\S+)  (?<tail>ok|FAIL.*)$");

    [Fact]
    public void AFilterThatMatchesNothingIsAnErrorNotAnEmptySuccess()
    {
        var (code, stdout, stderr) = InProcessCli.Run(new VerifyCommand(), "verify", "--filter", "no such check");
        Assert.Equal(1, code);
        Assert.Contains("error: --filter no such check", stderr);
        Assert.DoesNotContain("0 ok, 0 failed", stdout);
    }

    /// <summary>The packed stack's gradients are reported per block (input, θ, γ, β), each line in the parseable format.</summary>
    [Fact]
    public void GradientBlocksAreReportedOneLineEach()
    {
        var (code, stdout, stderr) = InProcessCli.Run(new VerifyCommand(), "verify", "--filter", "perf.packed stack conv/BN/ReLU (folded)");
        Assert.True(code == 0, stdout + stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).SkipLast(1).ToList();
        Assert.Equal(4, lines.Count);
        foreach (var (line, block) in lines.Zip(new[] { "input", "θ", "γ", "β" }))
        {
            var m = Line.Match(line);
            Assert.True(m.Success, line);
            Assert.EndsWith($"[{block}]", m.Groups["name"].Value.TrimEnd());
            Assert.Equal("ok", m.Groups["tail"].Value);
            Assert.InRange(double.Parse(m.Groups["dev"].Value, System.Globalization.CultureInfo.InvariantCulture), 0, 1e-4);
        }
        Assert.Equal("4 ok, 0 failed", stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last());
    }
}
