using BenchmarkDotNet.Attributes;
using EquiSharp.Performance;

namespace EquiSharp.Benchmarks;

/// <summary>
/// A stack of 4 symmetry-preserving 5×5 convolutions with BN and ReLU (32 channels, batch 2), forward + backward:
/// dense maps vs packed upper triangles (the folded layout). The same workload as <c>equisharp bench symconv</c>.
/// </summary>
public class SymmetricMapBenchmarks
{
    private SymmetricConvWorkload work = null!;

    [Params(128, 256)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        work = new SymmetricConvWorkload(new SymmetricConvSpec(Length, 32, 5, 4, 2));
    }

    [Benchmark(Baseline = true)]
    public void DenseMaps() => work.RunDense();

    [Benchmark]
    public void PackedMaps() => work.RunPacked();
}

/// <summary>
/// The symmetry-generating layer (n = 20 per-position features → 40 maps), forward + backward: conv on the materialised
/// self-Cartesian product (the authors' way) vs the separable layer that never builds it, and the separable layer
/// writing packed maps. The same workload as <c>equisharp bench generating</c>.
/// </summary>
public class GeneratingBenchmarks
{
    private GeneratingWorkload work = null!;

    [Params(1, 3)]
    public int Kernel { get; set; }

    [Params(256)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup() => work = new GeneratingWorkload(Length, 20, 40, Kernel);

    [Benchmark(Baseline = true)]
    public void DenseSelfCartesian() => work.RunDense();

    [Benchmark]
    public void Separable() => work.RunSeparable();

    [Benchmark]
    public void SeparablePackedOutput() => work.RunSeparablePacked();
}
