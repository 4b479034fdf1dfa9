using System.Runtime.InteropServices;
using TorchSharp;

namespace EquiSharp.Runtime;

/// <summary>
/// Replaces libtorch's CPU allocator (<c>c10::SetCPUAllocator</c>) with one whose large blocks come from a
/// <see cref="BlockArena"/>: freed memory is reused like a caching allocator's, but the arena's resident memory stays
/// within its live peak plus a budget, so a process holds about its live tensors, not the high-water mark of a
/// fragmented heap (at crop 128 the training steps' process peak fell from 929 to 614 MB, docs/performance.md §6).
/// <para>
/// libtorch's own CPU allocator is plain <c>posix_memalign</c>/<c>free</c>, and its caching allocators are C++-only, so
/// this builds the C++ object itself: a vtable laid out as <c>c10::Allocator</c>'s in the libtorch that TorchSharp
/// ships (two destructors, <c>allocate</c>, <c>is_simple_data_ptr</c>, <c>raw_deleter</c>, <c>copy_data</c>), whose
/// <c>allocate</c> returns a <c>c10::DataPtr</c> (data, deleter, context, device) through the hidden result pointer of
/// the Itanium C++ ABI. <see cref="Install"/> checks that layout against the library's default allocator (same
/// <c>is_simple_data_ptr</c> slot, a test allocation through its vtable returning a well-formed DataPtr) and leaves
/// the default in place when anything differs, so another libtorch build degrades to glibc, never to a crash.
/// </para>
/// Blocks below the large-block threshold still come from glibc. Every block has one deleter, <see cref="Free"/>, which
/// tells arena blocks from glibc's by address: libtorch's raw interface (raw_allocate/raw_deallocate) needs a single one.
/// </summary>
public static unsafe class TorchCpuAllocator
{
    [StructLayout(LayoutKind.Sequential)]
    private struct DataPtr
    {
        public IntPtr Data;
        public IntPtr Deleter;
        public IntPtr Context;
        public short Device;   // c10::Device: type (CPU = 0), index (−1)
    }

    private const short CpuDevice = unchecked((short)0xFF00);
    private const int Granule = 64 << 10;   // block sizes are multiples: page-aligned, few tiny leftovers
    private const int MADV_DONTNEED = 4;
    private const int PROT_READ_WRITE = 3, MAP_PRIVATE_ANONYMOUS_NORESERVE = 0x02 | 0x20 | 0x4000;

    private static readonly object Gate = new();
    private static BlockArena? arena;
    private static IntPtr rangeStart;
    private static long rangeBytes;
    private static long largeThreshold;

    /// <summary>True once installed in this process.</summary>
    public static bool Installed { get; private set; }

    /// <summary>Why <see cref="Install"/> left the default allocator in place (null when installed or not tried).</summary>
    public static string? NotInstalledReason { get; private set; }

    /// <summary>Large-block statistics (null before installation).</summary>
    public static (long Live, long PeakLive, long ResidentFree, long Fresh, long Released, long Extent)? Statistics
    {
        get
        {
            lock (Gate)
                return arena is null ? null
                    : (arena.LiveBytes, arena.PeakLiveBytes, arena.ResidentFreeBytes, arena.FreshBytes, arena.ReleasedBytes, arena.Extent);
        }
    }

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static extern IntPtr Mmap(IntPtr addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(IntPtr addr, nuint length, int advice);

    [DllImport("libc", EntryPoint = "posix_memalign")]
    private static extern int PosixMemalign(out IntPtr result, nuint alignment, nuint size);

    /// <summary>Freed tensor memory kept resident for reuse by default (<c>EQUISHARP_TENSOR_CACHE_MB</c> overrides it).</summary>
    public const long DefaultResidentBudgetBytes = 64L << 20;

    /// <summary>Tensors from this size on come from the arena; smaller ones from glibc.</summary>
    public const long DefaultLargeBlockBytes = 64L << 10;

    /// <summary>
    /// What the CLI calls at start-up: installs with the defaults, the budget from <c>EQUISHARP_TENSOR_CACHE_MB</c> if
    /// set; <c>EQUISHARP_TENSOR_ARENA=0</c> or <c>EQUISHARP_NATIVE_ALLOCATOR=default</c> keeps libtorch's allocator.
    /// (It was opt-in for one stop after two suite failures on a corrupted Scalar; those are TorchSharp's finalizer race
    /// on implicitly converted Scalars, reproduced at the same rate without the arena: docs/performance.md §6.)
    /// Returns whether installed.
    /// </summary>
    public static bool InstallFromEnvironment()
    {
        if (NativeAllocator.DefaultsRequested || Environment.GetEnvironmentVariable("EQUISHARP_TENSOR_ARENA") == "0") return false;
        long budget = long.TryParse(Environment.GetEnvironmentVariable("EQUISHARP_TENSOR_CACHE_MB"), out var mb) && mb >= 0 ? mb << 20 : DefaultResidentBudgetBytes;
        return Install(budget);
    }

    /// <summary>
    /// Installs the allocator for every CPU tensor allocated from now on (earlier tensors keep their deleters).
    /// <paramref name="residentBudgetBytes"/>: freed large-block bytes kept resident for reuse;
    /// <paramref name="largeBlockBytes"/>: allocations from this size on use the arena. Linux x86-64/arm64 only.
    /// Returns whether it was installed; <see cref="NotInstalledReason"/> says why not.
    /// </summary>
    public static bool Install(long residentBudgetBytes = DefaultResidentBudgetBytes, long largeBlockBytes = DefaultLargeBlockBytes)
    {
        lock (Gate)
        {
            if (Installed) return true;
            NotInstalledReason = TryInstall(residentBudgetBytes, largeBlockBytes);
            Installed = NotInstalledReason is null;
            return Installed;
        }
    }

    private static string? TryInstall(long budget, long threshold)
    {
        if (!OperatingSystem.IsLinux() || IntPtr.Size != 8) return "not 64-bit Linux";
        using (torch.zeros(1)) { }   // loads libtorch, so its libc10.so is found by name below
        if (!NativeLibrary.TryLoad("libc10.so", out var c10)) return "libc10.so is not loaded";
        if (!NativeLibrary.TryGetExport(c10, "_ZN3c1015SetCPUAllocatorEPNS_9AllocatorEh", out var setAllocator)
            || !NativeLibrary.TryGetExport(c10, "_ZN3c1022GetDefaultCPUAllocatorEv", out var getDefault)
            || !NativeLibrary.TryGetExport(c10, "_ZTVN3c109AllocatorE", out var baseVtable)
            || !NativeLibrary.TryGetExport(c10, "_ZNK3c109Allocator18is_simple_data_ptrERKNS_7DataPtrE", out var isSimple))
            return "c10 allocator symbols not found";

        // the layout check: the default allocator's vtable has is_simple_data_ptr in the slot we expect, as does the base's
        var defaultAllocator = ((delegate* unmanaged<IntPtr>)getDefault)();
        var defaultSlots = *(IntPtr**)defaultAllocator;
        var baseSlots = (IntPtr*)baseVtable + 2;
        if (defaultSlots[3] != isSimple || baseSlots[3] != isSimple) return "c10::Allocator's vtable differs from the expected layout";
        // and allocate returns a DataPtr through the hidden result pointer, as laid out here
        DataPtr probe;
        ((delegate* unmanaged<DataPtr*, IntPtr, nuint, DataPtr*>)defaultSlots[2])(&probe, defaultAllocator, 256);
        if (probe.Data == IntPtr.Zero || probe.Context != probe.Data || probe.Device != CpuDevice || probe.Deleter == IntPtr.Zero)
            return "c10::DataPtr differs from the expected layout";
        ((delegate* unmanaged<IntPtr, void>)probe.Deleter)(probe.Context);

        // the range the large blocks live in: address space only, pages are backed when touched
        foreach (var gib in new long[] { 64, 16, 4 })
        {
            rangeStart = Mmap(IntPtr.Zero, (nuint)(gib << 30), PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS_NORESERVE, -1, 0);
            if (rangeStart != new IntPtr(-1)) { rangeBytes = gib << 30; break; }
        }
        if (rangeBytes == 0) return "could not reserve address space";
        arena = new BlockArena(rangeBytes, budget, static (offset, length) => Madvise(rangeStart + (nint)offset, (nuint)length, MADV_DONTNEED));
        largeThreshold = Math.Max(threshold, Granule);

        // the object: a vtable pointer to slots laid out as c10::Allocator's (offset-to-top and type info before them)
        var table = (IntPtr*)NativeMemory.AllocZeroed(8, (nuint)sizeof(IntPtr));
        table[0] = IntPtr.Zero;
        table[1] = ((IntPtr*)baseVtable)[1];   // c10::Allocator's type info
        table[2] = (IntPtr)(delegate* unmanaged<IntPtr, void>)&Destroy;
        table[3] = (IntPtr)(delegate* unmanaged<IntPtr, void>)&Destroy;
        table[4] = (IntPtr)(delegate* unmanaged<DataPtr*, IntPtr, nuint, DataPtr*>)&Allocate;
        table[5] = isSimple;
        table[6] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr>)&RawDeleter;
        table[7] = defaultSlots[5];   // copy_data: the default's memcpy
        var instance = (IntPtr*)NativeMemory.Alloc((nuint)sizeof(IntPtr));
        *instance = (IntPtr)(table + 2);
        ((delegate* unmanaged<IntPtr, byte, void>)setAllocator)((IntPtr)instance, 1);   // priority 1: above the default's registration
        return null;
    }

    [UnmanagedCallersOnly]
    private static void Destroy(IntPtr self) { }   // the object lives as long as the process

    /// <summary>The raw interface (raw_allocate/raw_deallocate, used inside libtorch) needs the one deleter of every block.</summary>
    [UnmanagedCallersOnly]
    private static IntPtr RawDeleter(IntPtr self) => (IntPtr)(delegate* unmanaged<IntPtr, void>)&Free;

    [UnmanagedCallersOnly]
    private static DataPtr* Allocate(DataPtr* result, IntPtr self, nuint bytes)
    {
        IntPtr data = IntPtr.Zero;
        if ((long)bytes >= largeThreshold)
        {
            long size = ((long)bytes + Granule - 1) / Granule * Granule;
            long offset;
            lock (Gate) offset = arena!.Allocate(size);
            if (offset >= 0) data = rangeStart + (nint)offset;
        }
        if (data == IntPtr.Zero && bytes > 0 && PosixMemalign(out data, 64, bytes) != 0) data = IntPtr.Zero;
        if (data == IntPtr.Zero && bytes > 0) Environment.FailFast($"EquiSharp: out of memory allocating {bytes} bytes for a tensor.");
        *result = new DataPtr { Data = data, Deleter = (IntPtr)(delegate* unmanaged<IntPtr, void>)&Free, Context = data, Device = CpuDevice };
        return result;
    }

    [UnmanagedCallersOnly]
    private static void Free(IntPtr data)
    {
        if (Holds(data))
            lock (Gate) arena!.Free((long)(data - rangeStart));
        else if (data != IntPtr.Zero) LibcFree(data);
    }

    [DllImport("libc", EntryPoint = "free")]
    private static extern void LibcFree(IntPtr data);

    /// <summary>Whether <paramref name="data"/> points into the arena (a tensor's storage served by it).</summary>
    public static bool Holds(IntPtr data) => (ulong)(long)(data - rangeStart) < (ulong)rangeBytes;

    /// <summary>Returns every resident free large block to the OS (no-op when not installed).</summary>
    public static void ReleaseFreeMemory()
    {
        lock (Gate) arena?.ReleaseAllFree();
    }
}
