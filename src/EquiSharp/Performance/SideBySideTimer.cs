using System.Diagnostics;
using TorchSharp;

namespace EquiSharp.Performance;

/// <summary>Per-variant timings of one side-by-side run: the median (what ratios use) and the fastest run.</summary>
public sealed record VariantTiming(string Name, double MedianSeconds, double MinSeconds);

/// <summary>
/// Times variants alternately, round by round (warm-up rounds first), so a noisy machine slows every variant alike;
/// ratios are taken between medians of the same run.
/// </summary>
public static class SideBySideTimer
{
    /// <param name="variants">Named actions, each one complete run of a variant.</param>
    /// <param name="repeats">Timed rounds (the median is taken over them).</param>
    /// <param name="warmup">Untimed rounds first.</param>
    /// <param name="device">Synchronised around each run when it is a CUDA device.</param>
    /// <param name="runDone">Called after every finished run with its number (1 … (warmup + repeats) · variants), e.g. to
    /// advance a progress display (a plain callback, so the protocol depends on no display).</param>
    public static IReadOnlyDictionary<string, VariantTiming> Run(IReadOnlyList<(string Name, Action Run)> variants, int repeats, int warmup,
        torch.Device? device = null, Action<long>? runDone = null)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "At least one timed repeat is needed.");
        long done = 0;
        var times = variants.ToDictionary(v => v.Name, _ => new List<double>());
        for (int round = 0; round < warmup + repeats; round++)
            foreach (var (name, run) in variants)
            {
                Sync(device);
                var sw = Stopwatch.StartNew();
                run();
                Sync(device);
                sw.Stop();
                if (round >= warmup) times[name].Add(sw.Elapsed.TotalSeconds);
                runDone?.Invoke(++done);
            }
        return times.ToDictionary(kv => kv.Key, kv => new VariantTiming(kv.Key, Median(kv.Value), kv.Value.Min()));
    }

    private static void Sync(torch.Device? device)
    {
        if (device?.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }

    /// <summary>Number of timed and warm-up runs <see cref="Run"/> makes.</summary>
    public static long RunCount(int variants, int repeats, int warmup) => (long)variants * (repeats + warmup);

    /// <summary>The median (mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyCollection<double> xs)
    {
        if (xs.Count == 0) throw new ArgumentException("No values.", nameof(xs));
        var s = xs.OrderBy(v => v).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
