using System.Reflection;
using TorchSharp;
using Xunit.Sdk;

[assembly: EquiSharp.Tests.DisposeScopePerTest]

namespace EquiSharp.Tests;

/// <summary>
/// Every test runs inside a TorchSharp dispose scope. TorchSharp passes raw handles to libtorch, so a temporary tensor
/// that nothing references any more can be finalized — its native memory freed — by a GC that another test's thread
/// triggers while libtorch still reads it (seen once as "tensor does not have a device"). A scope references every
/// tensor the test creates until the test ends, which rules that out; it also frees them deterministically.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Class | AttributeTargets.Method)]
public sealed class DisposeScopePerTestAttribute : BeforeAfterTestAttribute
{
    // one attribute instance serves every test; xunit runs a synchronous test's Before, body and After on one thread
    [ThreadStatic] private static Stack<DisposeScope>? scopes;

    /// <summary>The scope of the test running on this thread (null outside a test).</summary>
    public static DisposeScope? Current => scopes is { Count: > 0 } ? scopes.Peek() : null;

    public override void Before(MethodInfo methodUnderTest)
    {
        (scopes ??= new()).Push(torch.NewDisposeScope());
    }

    public override void After(MethodInfo methodUnderTest)
    {
        if (scopes is { Count: > 0 }) scopes.Pop().Dispose();
    }
}
