using EquiSharp.Performance;
using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Performance;

/// <summary>
/// The benchmark workloads compare equal work: both variants of a workload compute the same gradients, so a time ratio
/// between them is a ratio between two ways of doing one computation.
/// </summary>
public sealed class WorkloadTests
{
    private static Tensor Gradients(IEnumerable<TorchSharp.Modules.Parameter> ps) => cat(ps.Select(p => p.grad!.flatten()).ToArray());

    [Theory]
    [InlineData("folded")]
    [InlineData("folded-nomargin")]
    [InlineData("tiled")]
    public void SymmetricConvVariantsComputeTheSameGradients(string layout)
    {
        var work = new SymmetricConvWorkload(new SymmetricConvSpec(13, 3, 3, 2, 2, layout, Tile: 5), seed: 7);
        work.RunDense();
        var dense = Gradients(work.Parameters()).clone();
        work.RunPacked();
        var packed = Gradients(work.Parameters());
        Assert.True(dense.abs().max().item<float>() > 0);
        Assert.True(Deviation.Relative(packed, dense) < 1e-4, $"relative deviation {Deviation.Relative(packed, dense)}");
    }

    [Fact]
    public void SymmetricConvWorkloadBuiltForOneVariantRefusesTheOther()
    {
        var work = new SymmetricConvWorkload(new SymmetricConvSpec(8, 2, 3, 1, 1), keep: SymmetricConvWorkload.Keep.Packed);
        work.RunPacked();
        Assert.Throws<InvalidOperationException>(work.RunDense);
    }

    [Fact]
    public void UnknownLayoutIsNamedInTheError()
    {
        var e = Assert.Throws<ArgumentException>(() => new SymmetricConvSpec(8, 2, 3, 1, 1, "diagonal").MakeLayout());
        Assert.Contains("'diagonal'", e.Message);
    }

    [Fact]
    public void SideBySideTimerAlternatesVariantsAndTakesMedians()
    {
        var calls = new List<string>();
        var timing = SideBySideTimer.Run(new List<(string, Action)> { ("a", () => calls.Add("a")), ("b", () => calls.Add("b")) }, repeats: 3, warmup: 1);
        Assert.Equal(new[] { "a", "b", "a", "b", "a", "b", "a", "b" }, calls);
        Assert.Equal(new[] { "a", "b" }, timing.Keys.Order());
        Assert.True(timing["a"].MinSeconds <= timing["a"].MedianSeconds);
        Assert.Equal(2.0, SideBySideTimer.Median(new[] { 3.0, 1.0, 2.0 }));
        Assert.Equal(2.5, SideBySideTimer.Median(new[] { 4.0, 1.0, 2.0, 3.0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SideBySideTimer.Run(new List<(string, Action)> { ("a", () => { }) }, 0, 0));
    }

    [Fact]
    public void SymmetricConvProtocolReportsEveryStepAndNoMemoryRatioWithoutChildren()
    {
        var run = new SymmetricConvRun(new SymmetricConvSpec(8, 2, 3, 1, 1), "cpu", 3);
        var steps = new List<long>();
        var r = SymmetricConvBenchmark.Run(run, CPU, repeats: 2, warmup: 1, childCommand: null, stepDone: steps.Add);
        Assert.Equal(Enumerable.Range(1, (int)SymmetricConvBenchmark.StepCount(2, 1, measureMemory: false)).Select(i => (long)i), steps);
        Assert.Equal(6, steps.Count);
        Assert.True(r.TimeRatio > 0);
        Assert.True(double.IsNaN(r.MemoryRatio) && r.PeakKb is null);
        Assert.Equal(new[] { "--length", "8", "--channels", "2", "--kernel", "3", "--layers", "1", "--batch", "1", "--layout", "folded", "--tile", "0", "--device", "cpu", "--seed", "3" }, run.Args());
        var e = Assert.Throws<ArgumentException>(() => SymmetricConvBenchmark.RunChild(run, CPU, "sparse"));
        Assert.Contains("sparse", e.Message);
        Assert.Equal(12, SymmetricConvBenchmark.StepCount(2, 1, measureMemory: true));
    }

    [Fact]
    public void MemoryRatiosAreTakenAboveTheIdleBaseline()
    {
        var timing = new Dictionary<string, VariantTiming> { ["dense"] = new("dense", 2.0, 1.0), ["packed"] = new("packed", 1.0, 1.0) };
        var peaks = new Dictionary<string, long> { ["idle"] = 100, ["dense"] = 300, ["packed"] = 200 };
        var r = new SymmetricConvResult(timing, peaks, new Dictionary<string, long> { ["idle"] = 100, ["dense"] = 500, ["packed"] = 200 });
        Assert.Equal(0.5, r.TimeRatio);
        Assert.Equal(0.5, r.MemoryRatio);
        Assert.Equal(0.25, r.RetainingMemoryRatio);
        Assert.True(ProcessMemory.PeakResidentKb() > 0);
        Assert.StartsWith("vmhwm_kb=", ProcessMemory.PeakLine());
    }
}
