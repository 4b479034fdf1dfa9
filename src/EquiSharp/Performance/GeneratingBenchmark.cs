using static TorchSharp.torch;

namespace EquiSharp.Performance;

/// <summary>Outcome of <see cref="GeneratingBenchmark.Run"/>: timings in variant order and the headline speedup.</summary>
public sealed record GeneratingResult(IReadOnlyList<string> Variants, IReadOnlyDictionary<string, VariantTiming> Timing)
{
    /// <summary>Median dense time / median separable time.</summary>
    public double Speedup => Timing["dense"].MedianSeconds / Timing["separable"].MedianSeconds;
}

/// <summary>
/// The <c>bench generating</c> protocol: the paths of a <see cref="GeneratingWorkload"/> timed alternately in one run
/// (<see cref="SideBySideTimer"/>): dense and separable always, the unfused and packed-output separable paths on request.
/// </summary>
public static class GeneratingBenchmark
{
    /// <summary>The variants run, in order.</summary>
    public static IReadOnlyList<string> Variants(bool plain, bool packed) =>
        new[] { "dense", "separable" }.Concat(plain ? new[] { "separable-plain" } : Array.Empty<string>())
            .Concat(packed ? new[] { "separable-packed" } : Array.Empty<string>()).ToArray();

    /// <param name="work">The workload.</param>
    /// <param name="plain">Also time the unfused separable variant.</param>
    /// <param name="packed">Also time the separable layer writing packed maps.</param>
    /// <param name="repeats">Timed rounds.</param>
    /// <param name="warmup">Untimed rounds first.</param>
    /// <param name="device">Synchronised around runs on CUDA.</param>
    /// <param name="runDone">Called after every run (<see cref="SideBySideTimer.RunCount"/> in all).</param>
    public static GeneratingResult Run(GeneratingWorkload work, bool plain, bool packed, int repeats, int warmup, Device? device = null, Action<long>? runDone = null)
    {
        var names = Variants(plain, packed);
        var actions = new Dictionary<string, Action>
        {
            ["dense"] = work.RunDense, ["separable"] = work.RunSeparable,
            ["separable-plain"] = work.RunSeparablePlain, ["separable-packed"] = work.RunSeparablePacked,
        };
        var timing = SideBySideTimer.Run(names.Select(n => (n, actions[n])).ToList(), repeats, warmup, device, runDone);
        return new GeneratingResult(names, timing);
    }
}
