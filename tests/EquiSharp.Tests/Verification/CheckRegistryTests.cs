using EquiSharp.Verification;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Verification;

public class CheckRegistryTests
{
    [Fact]
    public void EveryBuiltInCheckPasses()
    {
        var results = CheckRegistry.All().Select(c => c.Run()).ToList();
        Assert.NotEmpty(results);
        var failed = results.Where(r => !r.Ok).Select(r => $"{r.Name}: max_dev={r.MaxDeviation} {r.Error}").ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));
    }

    [Fact]
    public void ACheckThatDeviatesFailsAndReportsItsError()
    {
        Assert.False(new EquivarianceCheck("too far", () => 1e-3).Run().Ok);
        var crashed = new EquivarianceCheck("throws", () => throw new InvalidOperationException("boom")).Run();
        Assert.False(crashed.Ok);
        Assert.Equal("boom", crashed.Error);
    }

    [Fact]
    public void ACheckWhoseOutputIsAllZerosFails()
    {
        // an all-zero output is trivially symmetric and equal to any other all-zero output: that proves nothing
        var symmetric = new EquivarianceCheck("zero map", () => Deviation.Asymmetry(zeros(2, 3, 5, 5))).Run();
        Assert.False(symmetric.Ok);
        Assert.Contains("all zeros", symmetric.Error);
        Assert.False(new EquivarianceCheck("zero vs zero", () => Deviation.Relative(zeros(4), zeros(4))).Run().Ok);
        Assert.True(new EquivarianceCheck("equal", () => Deviation.Relative(ones(4), ones(4))).Run().Ok);
    }

    /// <summary>
    /// A small block (e.g. β's gradient) that deviates by 1e-3 of its own scale fails, even next to a block 1000× larger
    /// that matches exactly — one maximum over their concatenation would call the pair 1e-6 and pass.
    /// </summary>
    [Fact]
    public void EveryBlockIsMeasuredAgainstItsOwnScale()
    {
        var checks = EquivarianceCheck.PerBlock("pair", new[] { "large", "small" }, () => new[]
        {
            (full(3, KeptScalar.Of(1000f)), full(3, KeptScalar.Of(1000f))),
            (full(3, KeptScalar.Of(1.001f)), ones(3)),
        }).ToList();
        var results = checks.Select(c => c.Run()).ToList();
        Assert.Equal(new[] { "pair [large]", "pair [small]" }, results.Select(r => r.Name));
        Assert.True(results[0].Ok);
        Assert.False(results[1].Ok);
        Assert.InRange(results[1].MaxDeviation, 0.9e-3, 1.1e-3);
    }
}
