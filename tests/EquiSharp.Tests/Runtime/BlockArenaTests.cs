using EquiSharp.Runtime;

namespace EquiSharp.Tests.Runtime;

public class BlockArenaTests
{
    [Fact]
    public void FreedNeighboursMergeAndServeALargerBlockInPlace()
    {
        var arena = new BlockArena(capacity: 100, budget: 100, (_, _) => { });
        long a = arena.Allocate(10), b = arena.Allocate(20), c = arena.Allocate(10);
        Assert.Equal((0L, 10L, 30L), (a, b, c));
        arena.Free(b);
        arena.Free(a);
        Assert.Equal(1, arena.FreeBlockCount);           // [0, 30) is one block
        Assert.Equal(0, arena.Allocate(30));              // and holds a block of its full size
        Assert.Equal(40, arena.Extent);                   // without growing the range
    }

    [Fact]
    public void TheSmallestFreeBlockThatHoldsTheRequestIsUsed()
    {
        var arena = new BlockArena(1000, 1000, (_, _) => { });
        var blocks = new[] { 50L, 1, 20, 1, 30, 1 }.Select(arena.Allocate).ToArray();
        arena.Free(blocks[0]);   // 50 at 0
        arena.Free(blocks[2]);   // 20 at 51
        arena.Free(blocks[4]);   // 30 at 72
        Assert.Equal(72, arena.Allocate(25));
        Assert.Equal(51, arena.Allocate(20));
        Assert.Equal(0, arena.Allocate(40));
        Assert.Equal(103, arena.Allocate(60));            // nothing holds 60: the top
    }

    [Fact]
    public void AnExhaustedRangeReturnsMinusOneAndStaysUsable()
    {
        var arena = new BlockArena(100, 0, (_, _) => { });
        long a = arena.Allocate(60);
        Assert.Equal(-1, arena.Allocate(50));
        arena.Free(a);
        Assert.Equal(0, arena.Allocate(100));
    }

    [Fact]
    public void FreeingAnUnknownOffsetThrows()
    {
        var arena = new BlockArena(100, 0, (_, _) => { });
        arena.Allocate(10);
        Assert.Throws<InvalidOperationException>(() => arena.Free(5));
    }

    [Fact]
    public void ReleaseAllFreeReturnsEveryFreeByteAndNoLiveOne()
    {
        var released = new List<(long, long)>();
        var arena = new BlockArena(1000, 1000, (o, n) => released.Add((o, n)));
        var blocks = Enumerable.Range(1, 8).Select(i => arena.Allocate(i * 10)).ToArray();
        foreach (var b in blocks.Where((_, i) => i % 2 == 0)) arena.Free(b);
        arena.ReleaseAllFree();
        Assert.Equal(0, arena.ResidentFreeBytes);
        Assert.Equal(10 + 30 + 50 + 70, released.Sum(r => r.Item2));
        foreach (var (o, n) in released)
            Assert.DoesNotContain(blocks.Where((_, i) => i % 2 == 1), b => b < o + n && o < b + arena.SizeAt(b)!.Value);
    }

    /// <summary>
    /// The allocator calls the arena from inside libtorch's operations, where a garbage collection would finalize
    /// TorchSharp temporaries the operation still reads; so once its tables have grown, allocating and freeing allocate
    /// no managed memory at all.
    /// </summary>
    [Fact]
    public void SteadyAllocationAndFreeingAllocateNoManagedMemory()
    {
        var arena = new BlockArena(1L << 40, 64, (_, _) => { });
        var rng = new Random(3);
        var sizes = Enumerable.Range(0, 300).Select(_ => (long)rng.Next(1, 5000)).ToArray();
        var offsets = new long[sizes.Length];
        void Round()
        {
            for (int k = 0; k < sizes.Length; k++) offsets[k] = arena.Allocate(sizes[k]);
            for (int k = 0; k < sizes.Length; k += 2) arena.Free(offsets[k]);   // holes first, then the rest
            for (int k = 1; k < sizes.Length; k += 2) arena.Free(offsets[k]);
        }
        Round();
        Round();   // tables at their steady size
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 20; r++) Round();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>
    /// The arena's promise, checked against a page-exact model of residency: blocks never overlap, released ranges
    /// are free, and after every allocation the resident bytes (pages touched by allocations since their last release)
    /// are at most the peak of live bytes plus the budget.
    /// </summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 8)]
    [InlineData(3, 64)]
    [InlineData(4, 1000)]
    public void ResidentMemoryStaysWithinThePeakOfLiveMemoryPlusTheBudget(int seed, long budget)
    {
        const int capacity = 20_000;
        var resident = new bool[capacity];
        var owner = new int[capacity];   // 0 = free, else the id of the block holding the unit
        BlockArena? arenaRef = null;
        var arena = arenaRef = new BlockArena(capacity, budget, (o, n) =>
        {
            for (long u = o; u < o + n; u++)
            {
                Assert.Equal(0, owner[u]);   // only free memory is ever released
                resident[u] = false;
            }
        });
        var rng = new Random(seed);
        var live = new List<(long Offset, long Size, int Id)>();
        int nextId = 1;
        for (int step = 0; step < 4000; step++)
        {
            if (live.Count > 0 && rng.NextDouble() < 0.48)
            {
                int k = rng.Next(live.Count);
                var (o, n, _) = live[k];
                live.RemoveAt(k);
                arena.Free(o);
                for (long u = o; u < o + n; u++) owner[u] = 0;
            }
            else
            {
                long size = rng.NextDouble() < 0.3 ? rng.Next(1, 8) : rng.Next(8, 200);
                long o = arena.Allocate(size);
                if (o < 0) continue;
                int id = nextId++;
                for (long u = o; u < o + size; u++)
                {
                    Assert.Equal(0, owner[u]);   // no overlap with a live block
                    owner[u] = id;
                    resident[u] = true;          // the caller touches its block
                }
                live.Add((o, size, id));
                Assert.Equal(live.Sum(b => b.Size), arena.LiveBytes);
                Assert.True(resident.Count(r => r) <= arena.PeakLiveBytes + budget,
                    $"step {step}: {resident.Count(r => r)} resident > peak live {arena.PeakLiveBytes} + budget {budget}");
            }
        }
        Assert.True(arena.ResidentFreeBytes >= resident.Count(r => r) - arena.LiveBytes, "resident free bytes are an upper bound");
    }
}
