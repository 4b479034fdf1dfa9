using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Performance;

/// <summary>
/// A <c>bench symconv</c> run as a command line gives it. <see cref="Args"/> are the options a memory child gets, so the
/// host's child command must parse the same names (--length, --channels, --kernel, --layers, --batch, --layout, --tile,
/// --device, --seed).
/// </summary>
/// <param name="Spec">The workload's shape.</param>
/// <param name="Device">Device name as given (passed on to the children).</param>
/// <param name="Seed">Seed of parameters and maps.</param>
public sealed record SymmetricConvRun(SymmetricConvSpec Spec, string Device, int Seed)
{
    public string[] Args() => new[] { "--length", Inv(Spec.Length), "--channels", Inv(Spec.Channels), "--kernel", Inv(Spec.Kernel),
        "--layers", Inv(Spec.Layers), "--batch", Inv(Spec.Batch), "--layout", Spec.Layout, "--tile", Inv(Spec.Tile), "--device", Device, "--seed", Inv(Seed) };

    private static string Inv(long v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Outcome of <see cref="SymmetricConvBenchmark.Run"/>: side-by-side timings of the dense and packed variants and, when
/// measured, the peak resident memory (kB) of each variant and of an idle process, under glibc's default allocator
/// (<see cref="PeakKb"/>, the ratio's basis) and under the retaining allocator (<see cref="RetainingPeakKb"/>).
/// </summary>
public sealed record SymmetricConvResult(IReadOnlyDictionary<string, VariantTiming> Timing,
    IReadOnlyDictionary<string, long>? PeakKb, IReadOnlyDictionary<string, long>? RetainingPeakKb)
{
    /// <summary>Median packed time / median dense time.</summary>
    public double TimeRatio => Timing["packed"].MedianSeconds / Timing["dense"].MedianSeconds;

    /// <summary>Packed work memory / dense work memory (peak above the idle process), default allocator; NaN if not measured.</summary>
    public double MemoryRatio => Ratio(PeakKb);

    /// <summary>The same ratio under the retaining allocator; NaN if not measured.</summary>
    public double RetainingMemoryRatio => Ratio(RetainingPeakKb);

    /// <summary>A variant's peak above the idle process (kB).</summary>
    public static long WorkKb(IReadOnlyDictionary<string, long> peaks, string variant) => peaks[variant] - peaks["idle"];

    private static double Ratio(IReadOnlyDictionary<string, long>? peaks) =>
        peaks is null ? double.NaN : (double)WorkKb(peaks, "packed") / WorkKb(peaks, "dense");
}

/// <summary>
/// The <c>bench symconv</c> protocol: the dense and packed variants of a <see cref="SymmetricConvWorkload"/> timed
/// alternately in this process (<see cref="SideBySideTimer"/>), then each variant and an idle baseline run alone in a
/// child process, under glibc's default allocator (freed memory is returned, so VmHWM is the work's own peak) and
/// again under the retaining allocator (faster, but freed blocks stay resident and fragment, which inflates VmHWM
/// differently per variant); ratios are taken above the idle baseline.
/// </summary>
public static class SymmetricConvBenchmark
{
    /// <summary>The timed variants, in the order they are run and printed.</summary>
    public static readonly IReadOnlyList<string> TimedVariants = new[] { "dense", "packed" };

    /// <summary>The memory children: an idle baseline (libraries and runtime, no work), then each variant.</summary>
    public static readonly IReadOnlyList<string> MemoryVariants = new[] { "idle", "dense", "packed" };

    /// <summary>Steps <see cref="Run"/> reports: every timed run, then two children per memory variant.</summary>
    public static long StepCount(int repeats, int warmup, bool measureMemory) =>
        SideBySideTimer.RunCount(TimedVariants.Count, repeats, warmup) + (measureMemory ? 2 * MemoryVariants.Count : 0);

    /// <param name="run">The workload.</param>
    /// <param name="device">Device of the timed runs (<paramref name="run"/>'s device name, parsed).</param>
    /// <param name="repeats">Timed rounds (medians are reported).</param>
    /// <param name="warmup">Untimed rounds first.</param>
    /// <param name="childCommand">Arguments that make this executable run <see cref="RunChild"/>; "--variant &lt;name&gt;" and
    /// <see cref="SymmetricConvRun.Args"/> are appended. Null: no memory measurement.</param>
    /// <param name="stepDone">Called with the step number after every timed run and every child.</param>
    public static SymmetricConvResult Run(SymmetricConvRun run, Device device, int repeats, int warmup,
        IReadOnlyList<string>? childCommand, Action<long>? stepDone = null)
    {
        var work = new SymmetricConvWorkload(run.Spec, device, SymmetricConvWorkload.Keep.Both, run.Seed);
        var variants = new List<(string, Action)> { ("dense", work.RunDense), ("packed", work.RunPacked) };
        var timing = SideBySideTimer.Run(variants, repeats, warmup, device, stepDone);
        if (childCommand is null) return new SymmetricConvResult(timing, null, null);
        long step = SideBySideTimer.RunCount(variants.Count, repeats, warmup);
        var peak = new Dictionary<string, long>();
        var retaining = new Dictionary<string, long>();
        foreach (var v in MemoryVariants)
        {
            var args = childCommand.Concat(new[] { "--variant", v }).Concat(run.Args()).ToArray();
            peak[v] = ProcessMemory.ChildPeakKb(args, retainingAllocator: false);
            stepDone?.Invoke(++step);
            retaining[v] = ProcessMemory.ChildPeakKb(args, retainingAllocator: true);
            stepDone?.Invoke(++step);
        }
        return new SymmetricConvResult(timing, peak, retaining);
    }

    /// <summary>
    /// The body of a memory child: runs one variant (twice, so the peak includes a second step's allocations) or, for
    /// "idle", loads libtorch and runs one tiny op. The child then prints <see cref="ProcessMemory.PeakLine"/>.
    /// </summary>
    public static void RunChild(SymmetricConvRun run, Device device, string variant)
    {
        if (variant == "idle")
        {
            using var t = ones(new long[] { 4, 4 }, device: device);
            using var u = t.matmul(t);
            _ = u.sum().item<float>();
        }
        else if (variant == "dense" || variant == "packed")
        {
            var work = new SymmetricConvWorkload(run.Spec, device, variant == "dense" ? SymmetricConvWorkload.Keep.Dense : SymmetricConvWorkload.Keep.Packed, run.Seed);
            for (int i = 0; i < 2; i++) { if (variant == "dense") work.RunDense(); else work.RunPacked(); }
        }
        else throw new ArgumentException($"bench child: unknown --variant {variant} (expected {string.Join(", ", MemoryVariants)}).");
    }
}
