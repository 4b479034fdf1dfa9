using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace EquiSharp.Tests.Performance;

/// <summary>
/// The BenchmarkDotNet classes are only run by hand; this runs each benchmark method once (first value of every
/// [Params], after its [GlobalSetup]) so they cannot rot unnoticed, and checks each class has one baseline (the
/// summary's Ratio column needs it).
/// </summary>
[Collection("rna-serial")] // seeds the global torch RNG
public sealed class BenchmarkClassesTests
{
    private static readonly Assembly Benchmarks = typeof(EquiSharp.Benchmarks.SymmetricMapBenchmarks).Assembly;

    public static TheoryData<string> Classes()
    {
        var data = new TheoryData<string>();
        foreach (var t in Benchmarks.GetTypes().Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null)))
            data.Add(t.FullName!);
        return data;
    }

    [Fact]
    public void TheThreeBenchmarkClassesAreFound() => Assert.Equal(3, Classes().Count);

    [Theory]
    [MemberData(nameof(Classes))]
    public void EveryBenchmarkRunsOnceAndTheClassHasOneBaseline(string typeName)
    {
        var type = Benchmarks.GetType(typeName)!;
        var methods = type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null).ToList();
        Assert.Single(methods, m => m.GetCustomAttribute<BenchmarkAttribute>()!.Baseline);
        object instance = Activator.CreateInstance(type)!;
        foreach (var p in type.GetProperties())
            if (p.GetCustomAttribute<ParamsAttribute>() is { } values)
                p.SetValue(instance, values.Values[0]);
        foreach (var setup in type.GetMethods().Where(m => m.GetCustomAttribute<GlobalSetupAttribute>() is not null))
            setup.Invoke(instance, null);
        foreach (var m in methods) m.Invoke(instance, null);
    }
}
