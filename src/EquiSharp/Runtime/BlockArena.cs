namespace EquiSharp.Runtime;

/// <summary>
/// The bookkeeping of <see cref="TorchCpuAllocator"/>'s large blocks: a best-fit, coalescing allocator over one reserved
/// address range that keeps at most <c>budget</c> bytes of freed memory resident.
/// <para>
/// Why not glibc's heap: it keeps every freed block resident for reuse, and a training step's mix of sizes (maps,
/// spectra, small tensors in between) fragments it, so the process held about twice its live memory (measured at crop
/// 128: 929 MB resident at the end of training with 72 MB in use and 925 MB free in the heap). Here freed memory stays
/// resident only up to the budget, and address space, which costs nothing, absorbs the fragmentation: pages of free
/// blocks beyond the budget are returned (<c>release</c>, madvise(DONTNEED) in the allocator), the oldest freed first.
/// </para>
/// <para>
/// The bound: resident memory grows only when an allocation touches pages that are not resident. After every such
/// allocation the resident free bytes are brought within the budget, so resident memory of this arena never exceeds
/// <c>live + budget</c> at its peak. Resident bytes of a free block are tracked as an upper bound (a block merged from
/// resident and released parts, split again, may hold fewer than counted), so the bound holds for the true residency.
/// </para>
/// Offsets and sizes are bytes from the range's start; callers round sizes to their page granularity. Not thread-safe.
/// <para>
/// Allocates no managed memory once its dictionaries have grown (free blocks are found by a scan, not in sorted
/// sets, whose nodes are objects): <see cref="TorchCpuAllocator"/> calls it from inside libtorch's operations, and a
/// garbage collection started there finalizes TorchSharp temporaries (e.g. the Scalar of an <c>add_(…, alpha)</c>)
/// that the running operation still reads — seen as a corrupted Scalar in one CI run. The free blocks are few (tens),
/// so the scan costs less than the call into managed code.
/// </para>
/// </summary>
public sealed class BlockArena
{
    private readonly record struct FreeBlock(long Start, long Size, long Resident, long Stamp)
    {
        public long End => Start + Size;
    }

    private readonly long capacity;
    private readonly long budget;
    private readonly Action<long, long> release;
    private long top;     // [top, capacity) has never been touched, or was released when it rejoined the top
    private long clock;   // orders frees: the oldest free memory is released first

    private readonly Dictionary<long, FreeBlock> freeByStart = new(1024);
    private readonly Dictionary<long, long> freeStartByEnd = new(1024);
    private readonly Dictionary<long, long> allocated = new(4096);
    private long residentFreeBlocks;   // free blocks with resident bytes

    /// <param name="capacity">Bytes of the reserved range.</param>
    /// <param name="budget">Freed bytes that may stay resident.</param>
    /// <param name="release">Returns the pages of (offset, length) to the OS; they read as zeros when touched again.</param>
    public BlockArena(long capacity, long budget, Action<long, long> release)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        (this.capacity, this.budget, this.release) = (capacity, budget, release);
    }

    /// <summary>Bytes in allocated blocks.</summary>
    public long LiveBytes { get; private set; }

    /// <summary>The most bytes ever allocated at once.</summary>
    public long PeakLiveBytes { get; private set; }

    /// <summary>Upper bound of the free bytes that are resident.</summary>
    public long ResidentFreeBytes { get; private set; }

    /// <summary>Upper bound of the bytes allocations touched while not resident (page faults paid), over the arena's life.</summary>
    public long FreshBytes { get; private set; }

    /// <summary>Bytes returned to the OS, over the arena's life.</summary>
    public long ReleasedBytes { get; private set; }

    /// <summary>Address space in use: the end of the highest block ever kept (allocated or free).</summary>
    public long Extent => top;

    /// <summary>Free blocks (for tests and diagnostics).</summary>
    public int FreeBlockCount => freeByStart.Count;

    /// <summary>The size of the allocated block at <paramref name="offset"/>, or null if none starts there.</summary>
    public long? SizeAt(long offset) => allocated.TryGetValue(offset, out var s) ? s : null;

    /// <summary>
    /// Allocates <paramref name="size"/> bytes: the smallest free block that holds them, resident blocks first, else
    /// the top of the range. Returns the offset, or −1 when the range is exhausted.
    /// </summary>
    public long Allocate(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        long start, fresh;
        if (SmallestHolding(size, resident: true) is { } warm) (start, fresh) = TakeFrom(warm, size);
        else if (SmallestHolding(size, resident: false) is { } cold) (start, fresh) = TakeFrom(cold, size);
        else
        {
            // grow at the top, starting inside a free block that ends there (it is smaller than size, or it would have held it)
            var below = freeStartByEnd.TryGetValue(top, out var s) ? freeByStart[s] : (FreeBlock?)null;
            start = below?.Start ?? top;
            if (start + size > capacity) return -1;
            if (below is { } b) { Remove(b); ResidentFreeBytes -= b.Resident; }
            fresh = size - (below?.Resident ?? 0);
            top = start + size;
        }
        allocated[start] = size;
        LiveBytes += size;
        PeakLiveBytes = Math.Max(PeakLiveBytes, LiveBytes);
        if (fresh > 0)
        {
            FreshBytes += fresh;
            KeepResidentFreeWithinBudget();
        }
        return start;
    }

    /// <summary>Frees the block allocated at <paramref name="offset"/>, merging it with free neighbours.</summary>
    public void Free(long offset)
    {
        if (!allocated.Remove(offset, out var size))
            throw new InvalidOperationException($"No block is allocated at offset {offset}.");
        LiveBytes -= size;
        var block = new FreeBlock(offset, size, size, ++clock);
        ResidentFreeBytes += size;
        if (freeStartByEnd.TryGetValue(block.Start, out var leftStart))
        {
            var left = freeByStart[leftStart];
            Remove(left);
            block = new FreeBlock(left.Start, left.Size + block.Size, left.Resident + block.Resident, block.Stamp);
        }
        if (freeByStart.TryGetValue(block.End, out var right))
        {
            Remove(right);
            block = block with { Size = block.Size + right.Size, Resident = block.Resident + right.Resident };
        }
        Insert(block);
    }

    /// <summary>Returns every resident free block to the OS (for the end of a phase whose blocks will not be reused).</summary>
    public void ReleaseAllFree()
    {
        while (residentFreeBlocks > 0) ReleaseOldest();
    }

    private (long Start, long Fresh) TakeFrom(FreeBlock b, long size)
    {
        Remove(b);
        long rest = b.Size - size;
        long restResident = Math.Min(b.Resident, rest);   // the remainder may hold all resident bytes
        ResidentFreeBytes -= b.Resident - restResident;
        if (rest > 0) Insert(new FreeBlock(b.Start + size, rest, restResident, b.Stamp));   // its right neighbour is not free
        return (b.Start, size - (b.Resident - restResident));
    }

    private void KeepResidentFreeWithinBudget()
    {
        while (LiveBytes + ResidentFreeBytes > PeakLiveBytes + budget && residentFreeBlocks > 0) ReleaseOldest();
    }

    private void ReleaseOldest()
    {
        FreeBlock b = default;
        long oldest = long.MaxValue;
        foreach (var f in freeByStart.Values)
            if (f.Resident > 0 && f.Stamp < oldest) (b, oldest) = (f, f.Stamp);
        release(b.Start, b.Size);
        ReleasedBytes += b.Size;
        ResidentFreeBytes -= b.Resident;
        Remove(b);
        if (b.End == top) top = b.Start;   // released memory at the top rejoins the untouched range
        else Insert(b with { Resident = 0 });
    }

    private FreeBlock? SmallestHolding(long size, bool resident)
    {
        FreeBlock? best = null;
        foreach (var f in freeByStart.Values)
            if (f.Size >= size && f.Resident > 0 == resident && (best is null || f.Size < best.Value.Size || f.Size == best.Value.Size && f.Start < best.Value.Start))
                best = f;
        return best;
    }

    private void Insert(FreeBlock b)
    {
        freeByStart[b.Start] = b;
        freeStartByEnd[b.End] = b.Start;
        if (b.Resident > 0) residentFreeBlocks++;
    }

    private void Remove(FreeBlock b)
    {
        freeByStart.Remove(b.Start);
        freeStartByEnd.Remove(b.End);
        if (b.Resident > 0) residentFreeBlocks--;
    }
}
