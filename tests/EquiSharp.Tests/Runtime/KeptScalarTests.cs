using System.Runtime.CompilerServices;
using EquiSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Runtime;

public class KeptScalarTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference Created(double value) => new(KeptScalar.Of(value));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CreateMore(int count) { for (int k = 0; k < count; k++) KeptScalar.Of(k); }

    private static void Collect() { GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double ValueOf(WeakReference scalar) => ((Scalar)scalar.Target!).ToDouble();

    /// <summary>A Scalar stays reachable while its thread creates its next <see cref="KeptScalar.Capacity"/> − 1 Scalars, and is released after.</summary>
    [Fact]
    public void AScalarIsKeptForTheThreadsNextScalarsAndThenReleased()
    {
        var first = Created(0.5);
        CreateMore(KeptScalar.Capacity - 1);
        Collect();
        Assert.True(first.IsAlive);
        Assert.Equal(0.5, ValueOf(first));
        CreateMore(1);
        Collect();
        Assert.False(first.IsAlive);
    }

    [Fact]
    public void EachOverloadKeepsTheTypeOfTheImplicitConversion()
    {
        // c10 holds every integer as int64 and every float as double; the point is that nothing changes from the conversion
        Assert.Equal(1.0.ToScalar().Type, KeptScalar.Of(1.0).Type);
        Assert.Equal(1f.ToScalar().Type, KeptScalar.Of(1f).Type);
        Assert.Equal(1L.ToScalar().Type, KeptScalar.Of(1L).Type);
        Assert.Equal(1.ToScalar().Type, KeptScalar.Of(1).Type);
        Assert.Equal(true.ToScalar().Type, KeptScalar.Of(true).Type);
        Assert.Equal(ScalarType.Bool, KeptScalar.Of(true).Type);
        using var ints = KeptScalar.Range(4);
        Assert.Equal(ScalarType.Int64, ints.mul(KeptScalar.Of(2)).dtype);   // an integer tensor stays integer
    }
}
