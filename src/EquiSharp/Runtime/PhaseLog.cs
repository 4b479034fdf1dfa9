using System.Diagnostics;
using System.Globalization;

namespace EquiSharp.Runtime;

/// <summary>
/// Where a whole process spends its CPU time and memory, phase by phase: with <c>EQUISHARP_PHASES=1</c> every
/// <see cref="Mark"/> writes one line to standard error,
/// <c>phase=&lt;name&gt; cpu_ms=&lt;process CPU time since the previous mark&gt; wall_ms=… rss_mb=&lt;resident now&gt;
/// peak_mb=&lt;peak resident during the phase&gt; anon_mb=… file_mb=… (resident anonymous memory and mapped files)
/// managed_mb=&lt;.NET heap&gt; native_used_mb=… native_free_mb=…</c> (glibc's allocated and kept-free bytes,
/// <see cref="NativeAllocator.HeapUse"/>), then the tensor arena's <c>arena_…_mb</c> counters when
/// <see cref="TorchCpuAllocator"/> is installed. The first mark's phase starts at process start. The per-phase peak
/// comes from resetting the kernel's VmHWM after each mark (<c>/proc/self/clear_refs</c>, value 5; where that is not
/// allowed the peak is the process's peak so far). Off by default: a mark then costs one environment lookup.
/// </summary>
public static class PhaseLog
{
    /// <summary>Whether EQUISHARP_PHASES=1: callers building a phase name on a hot path check it first.</summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("EQUISHARP_PHASES") == "1";
    private static TimeSpan lastCpu = TimeSpan.Zero;
    private static DateTime? lastWall;

    /// <summary>Ends the phase called <paramref name="name"/> (no-op unless EQUISHARP_PHASES=1).</summary>
    public static void Mark(string name)
    {
        if (!Enabled) return;
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var now = DateTime.Now;
        var wall = now - (lastWall ?? self.StartTime);
        var (rss, peak) = (StatusKb("VmRSS:"), StatusKb("VmHWM:"));
        var heap = NativeAllocator.HeapUse();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"phase={name} cpu_ms={(cpu - lastCpu).TotalMilliseconds:0} wall_ms={wall.TotalMilliseconds:0} rss_mb={rss / 1024.0:0} peak_mb={peak / 1024.0:0} " +
            $"anon_mb={StatusKb("RssAnon:") / 1024.0:0} file_mb={StatusKb("RssFile:") / 1024.0:0} managed_mb={GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:0} native_used_mb={heap.Used / 1048576.0:0} native_free_mb={heap.Free / 1048576.0:0}") + ArenaText());
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } // the next phase's peak starts from the resident memory now
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        lastCpu = cpu;
        lastWall = now;
    }

    private static string ArenaText() => TorchCpuAllocator.Statistics is { } p
        ? string.Create(CultureInfo.InvariantCulture, $" arena_live_mb={p.Live >> 20} arena_peak_live_mb={p.PeakLive >> 20} arena_resident_free_mb={p.ResidentFree >> 20} arena_fresh_mb={p.Fresh >> 20} arena_released_mb={p.Released >> 20} arena_extent_mb={p.Extent >> 20}")
        : "";

    /// <summary>A kB field of /proc/self/status (e.g. "VmHWM:"), or −1 where unavailable.</summary>
    public static long StatusKb(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        return -1;
    }
}
