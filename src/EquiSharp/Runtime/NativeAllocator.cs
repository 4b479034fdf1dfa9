using System.Runtime.InteropServices;

namespace EquiSharp.Runtime;

/// <summary>
/// libtorch on CPU has no caching allocator: every large tensor is a fresh glibc malloc, which above the mmap
/// threshold is a fresh mmap — page-faulted in on first touch and unmapped on free. Pair maps are large (B·C·L² floats),
/// so a training step spends much of its time in page faults (measured: `equisharp demo` 15.8 s of 46 s in the kernel).
/// Raising glibc's mmap and trim thresholds keeps freed memory in the heap for reuse, and a free heap top reserved at
/// start-up lets blocks above glibc's 32 MiB mmap cap be served from the heap too. Peak memory is unchanged (the
/// same blocks are reused); resident memory after a peak is not returned to the OS until exit. Since
/// <see cref="TorchCpuAllocator"/> serves tensors of 64 KiB and more from its own arena, these settings govern what
/// is left: small tensors and libtorch's own mallocs.
/// </summary>
public static class NativeAllocator
{
    private const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);

    /// <summary>Heap growth pad in MiB (EQUISHARP_MALLOC_TOP_PAD_MB overrides the default).</summary>
    private static int TopPadMiB() =>
        int.TryParse(Environment.GetEnvironmentVariable("EQUISHARP_MALLOC_TOP_PAD_MB"), out var v) && v >= 0 && v <= 1024 ? v : 256;

    /// <summary>Free heap top left at start-up (room for several (B, C, L, L) maps of a training step).</summary>
    private const long HeapTopReserve = 256L << 20;

    /// <summary>Free heap top right after the start-up reserve (null before it, or where it cannot be read).</summary>
    public static long? ReservedTopBytes { get; private set; }

    /// <summary>
    /// Room the main heap had to grow in place before the reserve (bytes from its end to the next mapping, from
    /// /proc/self/maps), or null where that cannot be read. Less room than the reserve explains a smaller reserve:
    /// glibc then continues the heap in a separate mapping whose free space it does not keep as one top.
    /// </summary>
    public static long? HeapRoomBeforeReserve { get; private set; }

    /// <summary>
    /// <c>EQUISHARP_NATIVE_ALLOCATOR=default</c>: keep glibc's defaults and libtorch's own allocator (no retention, no
    /// tensor arena) — the one switch for both, e.g. to measure a workload's own peak.
    /// </summary>
    public static bool DefaultsRequested => Environment.GetEnvironmentVariable("EQUISHARP_NATIVE_ALLOCATOR") == "default";

    /// <summary>True once <see cref="RetainFreedMemory"/> has applied its settings in this process.</summary>
    public static bool Retaining { get; private set; }

    /// <summary>
    /// Keeps freed native memory for reuse (glibc only; a no-op elsewhere or when EQUISHARP_NATIVE_ALLOCATOR=default).
    /// Returns true when the settings were applied.
    /// </summary>
    public static bool RetainFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || DefaultsRequested) return false;
        try
        {
            // glibc caps the mmap threshold at 32 MiB on 64-bit; larger blocks still map, smaller ones are reused
            bool ok = Mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
            ok &= Mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            ok &= Mallopt(M_TOP_PAD, TopPadMiB() << 20) == 1;
            if (ok)
            {
                HeapRoomBeforeReserve = HeapGrowthRoomBytes();
                ReserveHeapTop(HeapTopReserve);
                ReservedTopBytes = FreeHeapTopBytes();
            }
            Retaining = ok;
            return ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (e.g. musl): keep the defaults
        }
    }

    /// <summary>
    /// Leaves at least <paramref name="bytes"/> free at the top of the heap. glibc serves a block above the mmap cap from
    /// the heap's free top when it has room and maps it fresh (page faults on every use) when not, so without this the
    /// speed of big tensors depended on how the heap happened to grow before the first one (measured: `bench generating
    /// --kernel 3` gave speedup 29 or 12 depending on it). Costs address space only: the pages stay untouched until used.
    /// </summary>
    private static void ReserveHeapTop(long bytes)
    {
        const int block = 31 << 20;   // under the mmap cap, so every block comes from the heap (growing it by the pad)
        var blocks = new List<IntPtr>();
        try
        {
            for (long total = 0; total < bytes; total += block) blocks.Add(Marshal.AllocHGlobal(block));   // malloc on Unix
        }
        catch (OutOfMemoryException) { } // a smaller reserve is still a reserve
        foreach (var p in blocks) Marshal.FreeHGlobal(p);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallInfo2Native();

    /// <summary>
    /// Free bytes at the top of the main heap (glibc's mallinfo2 keepcost), or null where that cannot be read: the room
    /// big tensors have before they fall back to fresh mappings.
    /// </summary>
    public static long? FreeHeapTopBytes()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try { return (long)MallInfo2Native().Keepcost; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
    }

    /// <summary>
    /// glibc's allocated bytes (heap blocks in use plus mmapped blocks) and the free bytes it keeps in its heaps
    /// (mallinfo2; both −1 where that cannot be read).
    /// </summary>
    public static (long Used, long Free) HeapUse()
    {
        if (!OperatingSystem.IsLinux()) return (-1, -1);
        try
        {
            var m = MallInfo2Native();
            return ((long)(m.Uordblks + m.Hblkhd), (long)m.Fordblks);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return (-1, -1); }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>
    /// Returns the free memory the allocator keeps (freed blocks, the heap's free top) to the OS with malloc_trim, and
    /// keeps retaining from then on. For the end of a phase whose blocks will not be reused, e.g. training before a
    /// full-length report whose maps are of other sizes: the report's peak then starts from the live memory, not from the
    /// kept blocks on top of it, while the report's own strip transients (tens of MB each with FFT convolutions) are
    /// still reused from strip to strip instead of being mapped and page-faulted afresh. Measured at crop 128 with a
    /// 1,526-nt report: the whole `rna train` process 7.50 s against 7.85 s when retention also stopped (medians of three
    /// runs each); process peak 1,197 against 1,170 MB — the report's own peak rises but stays near the training's and
    /// the dev evaluation's. A no-op off glibc.
    /// </summary>
    public static void ReturnFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        TorchCpuAllocator.ReleaseFreeMemory();
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>The reserve the start-up aims for.</summary>
    public static long TargetReserveBytes => HeapTopReserve;

    /// <summary>
    /// Bytes between the end of the main heap (<c>[heap]</c> in /proc/self/maps) and the next mapping above it: how far
    /// brk can grow the heap in place. Null off Linux or when the process has no heap mapping yet.
    /// </summary>
    public static long? HeapGrowthRoomBytes()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var ranges = new List<(ulong Start, ulong End, bool Heap)>();
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int dash = line.IndexOf('-'), space = line.IndexOf(' ');
                if (dash <= 0 || space <= dash) continue;
                ranges.Add((Convert.ToUInt64(line[..dash], 16), Convert.ToUInt64(line[(dash + 1)..space], 16), line.EndsWith("[heap]", StringComparison.Ordinal)));
            }
            var heap = ranges.Where(r => r.Heap).ToList();
            if (heap.Count == 0) return null;
            ulong end = heap.Max(r => r.End);
            var above = ranges.Where(r => r.Start >= end).Select(r => r.Start).DefaultIfEmpty(ulong.MaxValue).Min();
            return above == ulong.MaxValue ? long.MaxValue : (long)Math.Min(above - end, (ulong)long.MaxValue);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException) { return null; }
    }
}
