using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Benchmarks;

/// <summary>
/// Demonstrates TorchSharp's finalizer race on implicitly converted Scalars, the cause of the two "corrupted Scalar"
/// suite failures once blamed on the tensor arena (docs/performance.md §6). <c>x.add_(y, alpha: 0.5)</c> converts 0.5
/// to a Scalar, passes its native handle and never touches the managed object again, so a GC during the native call
/// may finalize it and free the c10::Scalar that the op is still reading. A second thread forcing GCs makes the window
/// likely; the other arms keep their Scalar alive (a <c>using</c> local, or <see cref="Runtime.KeptScalar"/>, what the
/// library uses everywhere) and must count no errors.
/// Run: <c>EquiSharp.Benchmarks scalar-race [implicit|kept-alive|kept-scalar] [--arena] [--seconds N]</c>, one arm per process.
/// </summary>
internal static class ScalarFinalizerRace
{
    public static int Run(string[] args)
    {
        string arm = args.FirstOrDefault(a => a is "kept-alive" or "kept-scalar") ?? "implicit";
        bool arena = args.Contains("--arena");
        int at = Array.IndexOf(args, "--seconds");
        double seconds = at >= 0 ? double.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : 30;
        if (arena && !Runtime.TorchCpuAllocator.Install()) throw new InvalidOperationException(Runtime.TorchCpuAllocator.NotInstalledReason);
        torch.set_num_threads(1);

        var stop = false;
        var collector = new Thread(() => { while (!Volatile.Read(ref stop)) GC.Collect(); }) { IsBackground = true };
        collector.Start();
        using var x = zeros(1000);
        using var y = ones(1000);
        long ops = 0, errors = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
            for (int i = 0; i < 1000; i++, ops++)
            {
                try
                {
                    if (arm == "kept-alive") { using var alpha = 0.5.ToScalar(); x.add_(y, alpha); }
                    else if (arm == "kept-scalar") x.add_(y, alpha: Runtime.KeptScalar.Of(0.5));
#pragma warning disable RS0030 // the race this demonstrates
                    else x.add_(y, alpha: 0.5);
#pragma warning restore RS0030
                }
                catch (Exception) { errors++; }   // libtorch read a freed Scalar and rejected it
            }
        Volatile.Write(ref stop, true);
        collector.Join();
        // the sum tells whether any failed op had still added, or a successful one added a wrong amount
        double expected = 0.5 * (ops - errors), actual = x[0].item<float>();
        Console.WriteLine($"arm={arm} arena={(Runtime.TorchCpuAllocator.Installed ? "on" : "off")} " +
                          $"ops={ops} gcs={GC.CollectionCount(0)} failed_ops={errors} sum_ok={actual == expected}");
        return 0;
    }
}
