using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

namespace EquiSharp.Performance;

/// <summary>Shape of a <c>bench rna-step</c> run.</summary>
/// <param name="Crop">L: side of the maps.</param>
/// <param name="Batch">B: sequences per step.</param>
/// <param name="Steps">Timed steps per child (after one untimed warm-up step).</param>
/// <param name="Device">Device name as given (passed on to the children).</param>
/// <param name="Seed">Seed of parameters and data.</param>
/// <param name="Threads">Intra-op threads of the children (0 = TorchSharp's default).</param>
public sealed record PairNetworkStepRun(int Crop, int Batch, int Steps, string Device, int Seed, int Threads = 0)
{
    /// <summary>The options a child gets (its command must parse these names).</summary>
    public string[] Args() => new[] { "--crop", Inv(Crop), "--batch", Inv(Batch), "--steps", Inv(Steps), "--device", Device, "--seed", Inv(Seed), "--threads", Inv(Threads) };

    private static string Inv(long v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One variant's result: median seconds per step over the rounds, and the largest peak resident memory (kB).</summary>
public sealed record PairNetworkStepResult(string Variant, double SecondsPerStep, double MinSecondsPerStep, long PeakKb, double Loss);

/// <summary>
/// The <c>bench rna-step</c> protocol: each variant of <see cref="PairNetworkStepWorkload"/> trains in its own child
/// process (so its peak resident memory is its own, with the CLI's allocator settings, as in <c>rna train</c>); the
/// variants alternate round by round so machine load slows them alike. A child times its steps after one warm-up step.
/// </summary>
public static class PairNetworkStepBenchmark
{
    private const string StepKey = "s_per_step", LossKey = "loss";

    /// <param name="run">The workload.</param>
    /// <param name="rounds">Children per variant (medians over them).</param>
    /// <param name="childCommand">Arguments that make this executable run <see cref="RunChild"/>; "--variant &lt;name&gt;" and
    /// <see cref="PairNetworkStepRun.Args"/> are appended.</param>
    /// <param name="variants">Which variants (default all).</param>
    /// <param name="childDone">Called after every child.</param>
    public static IReadOnlyList<PairNetworkStepResult> Run(PairNetworkStepRun run, int rounds, IReadOnlyList<string> childCommand,
        IReadOnlyList<string>? variants = null, Action<long>? childDone = null)
    {
        variants ??= PairNetworkStepWorkload.Variants;
        var seconds = variants.ToDictionary(v => v, _ => new List<double>());
        var peaks = variants.ToDictionary(v => v, _ => 0L);
        var losses = variants.ToDictionary(v => v, _ => double.NaN);
        long done = 0;
        for (int round = 0; round < rounds; round++)
            foreach (var v in variants)
            {
                var (output, peak) = ProcessMemory.RunChild(childCommand.Concat(new[] { "--variant", v }).Concat(run.Args()), retainingAllocator: true);
                seconds[v].Add(ProcessMemory.ReadValue(output, StepKey) ?? throw new InvalidOperationException($"bench child printed no {StepKey}: {output}"));
                losses[v] = ProcessMemory.ReadValue(output, LossKey) ?? double.NaN;
                peaks[v] = Math.Max(peaks[v], peak);
                childDone?.Invoke(++done);
            }
        return variants.Select(v => new PairNetworkStepResult(v, SideBySideTimer.Median(seconds[v]), seconds[v].Min(), peaks[v], losses[v])).ToList();
    }

    /// <summary>
    /// The body of a child: one warm-up step, then <see cref="PairNetworkStepRun.Steps"/> timed steps. Returns the line
    /// the child prints before its peak line: <c>s_per_step=&lt;x&gt; loss=&lt;last loss&gt;</c>.
    /// </summary>
    public static string RunChild(PairNetworkStepRun run, Device device, string variant)
    {
        var work = new PairNetworkStepWorkload(variant, run.Crop, run.Batch, device, run.Seed);
        work.Step();
        var sw = Stopwatch.StartNew();
        double loss = double.NaN;
        for (int i = 0; i < run.Steps; i++) loss = work.Step();
        double perStep = sw.Elapsed.TotalSeconds / Math.Max(1, run.Steps);
        return string.Create(CultureInfo.InvariantCulture, $"{StepKey}={perStep:0.0000} {LossKey}={loss:0.000000}");
    }
}
