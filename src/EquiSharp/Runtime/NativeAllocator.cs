using System.Runtime.InteropServices;

namespace EquiSharp.Runtime;

/// <summary>
/// libtorch on CPU has no caching allocator: every large tensor is a fresh glibc malloc, which above the mmap
/// threshold is a fresh mmap — page-faulted in on first touch and unmapped on free. Pair maps are large (B·C·L² floats),
/// so a training step spends much of its time in page faults (measured: `equisharp demo` 15.8 s of 46 s in the kernel).
/// Raising glibc's mmap and trim thresholds keeps freed memory in the heap for reuse. Peak memory is unchanged (the
/// same blocks are reused); resident memory after a peak is not returned to the OS until exit.
/// </summary>
public static class NativeAllocator
{
    private const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);

    /// <summary>Heap growth pad in MiB (EQUISHARP_MALLOC_TOP_PAD_MB overrides the default).</summary>
    private static int TopPadMiB() =>
        int.TryParse(Environment.GetEnvironmentVariable("EQUISHARP_MALLOC_TOP_PAD_MB"), out var v) && v >= 0 && v <= 1024 ? v : 256;

    /// <summary>
    /// Keeps freed native memory for reuse (glibc only; a no-op elsewhere or when EQUISHARP_NATIVE_ALLOCATOR=default).
    /// Returns true when the settings were applied.
    /// </summary>
    public static bool RetainFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("EQUISHARP_NATIVE_ALLOCATOR") == "default") return false;
        try
        {
            // glibc caps the mmap threshold at 32 MiB on 64-bit; larger blocks still map, smaller ones are reused
            bool ok = Mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
            ok &= Mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            ok &= Mallopt(M_TOP_PAD, TopPadMiB() << 20) == 1;
            return ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (e.g. musl): keep the defaults
        }
    }
}
