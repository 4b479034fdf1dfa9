using EquiSharp.Cli.Commands;
using EquiSharp.Applications.Sets;
using EquiSharp.Tests.Cli;

namespace EquiSharp.Tests.Layers.Permutation;

public class SetsDemoTests
{
    private static readonly SetsDemoOptions Small = new() { Steps = 300, TrainSamples = 512, TestSamples = 256, WideMlpHidden = 0 };

    [Fact]
    public void SmallDemoLearnsTheTargetAndTransfersToLargerSetsOnlyWithTheEquivariantModel()
    {
        var results = SetsDemo.Run(Small);
        Assert.Equal(3, results.Count);
        var equivariant = results[0];
        Assert.StartsWith("equivariant, per-element", equivariant.Name);
        Assert.True(equivariant.TestRelMseTrainSize < 1e-3, $"N=5 rel. MSE {equivariant.TestRelMseTrainSize}");
        Assert.NotNull(equivariant.TestRelMseEval);
        Assert.True(equivariant.TestRelMseEval < 1e-3, $"N=10 rel. MSE {equivariant.TestRelMseEval}");
        Assert.True(equivariant.PermutationDeviation < 1e-5);
        Assert.True(results[1].PermutationDeviation < 1e-5);
        var mlp = results.Single(r => r.Name.StartsWith("mlp", StringComparison.Ordinal));
        Assert.Null(mlp.TestRelMseEval);
        Assert.True(mlp.PermutationDeviation > 1e-2);           // an unconstrained MLP is not equivariant
        Assert.True(mlp.TestRelMseTrainSize > equivariant.TestRelMseTrainSize);

        var lines = SetsDemo.Format(results, Small).ToList();
        var mlpLine = lines.Single(l => l.StartsWith("mlp", StringComparison.Ordinal));
        Assert.Contains("n/a", mlpLine);
        Assert.DoesNotContain(",", mlpLine);   // invariant culture: no decimal commas
    }

    [Fact]
    public void TargetIsXiTimesSumOfTheOthers()
    {
        var x = TorchSharp.torch.tensor(new float[] { 1, 2, 3, -1, 0.5f, 4 }, new long[] { 2, 3 });
        var y = SetsDemo.Target(x).data<float>().ToArray();
        Assert.Equal(new float[] { 5, 8, 9, -4.5f, 1.5f, -2 }, y);
    }
}

/// <summary>Redirects Console; kept in the "Console" collection so it never runs in parallel with other console-capturing tests.</summary>
[Collection("Console")]
public class OrbitsCommandTests
{
    private static (int Code, string[] Out, string Err) Run(params string[] args)
    {
        var (code, stdout, stderr) = InProcessCli.Run(new OrbitsCommand(), args);
        return (code, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), stderr);
    }

    [Theory]
    [InlineData("linear", false, 1, "free_parameters=1")]
    [InlineData("linear", false, 4, "free_parameters=2")]
    [InlineData("quadratic", false, 2, "free_parameters=4")]
    [InlineData("quadratic", false, 6, "free_parameters=5")]
    [InlineData("quadratic", true, 2, "free_parameters=3")]
    [InlineData("quadratic", true, 8, "free_parameters=4")]
    public void LastLineIsTheFreeParameterCount(string map, bool pairs, int n, string last)
    {
        var args = new List<string> { "orbits", "--group", $"sym:{n}", "--map", map };
        if (pairs) args.Add("--symmetric-pairs");
        var (code, lines, _) = Run(args.ToArray());
        Assert.Equal(0, code);
        Assert.Equal(last, lines[^1].TrimEnd('\r'));
    }

    [Fact]
    public void FoldedOutputUnderSymNIsRefusedWithTheSubgroupHint()
    {
        var (code, lines, err) = Run("orbits", "--group", "sym:6", "--map", "linear", "--output", "fold");
        Assert.Equal(2, code);
        Assert.DoesNotContain(lines, l => l.StartsWith("free_parameters", StringComparison.Ordinal));
        Assert.Contains("(0 1)", err);
        Assert.Contains("--group pairs:6", err);
        var ok = Run("orbits", "--group", "pairs:6", "--map", "linear", "--output", "fold");
        Assert.Equal(0, ok.Code);
        Assert.Equal("free_parameters=2", ok.Out[^1].TrimEnd('\r'));
    }
}
