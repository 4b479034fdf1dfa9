using static TorchSharp.torch;

namespace EquiSharp.Tests;

public class DisposeScopePerTestTests
{
    [Fact]
    public void ATensorATestCreatesIsOwnedByTheTestsScope()
    {
        var scope = DisposeScopePerTestAttribute.Current;
        Assert.NotNull(scope);
        long before = scope!.DisposablesCount;
        var probe = ones(2);
        Assert.Equal(before + 1, scope.DisposablesCount);
        Assert.False(probe.IsInvalid);
    }
}
