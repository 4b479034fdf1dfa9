using EquiSharp.Verification;

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
}
