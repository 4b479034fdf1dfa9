using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Pairwise.Packed;

/// <summary>
/// How a symmetric L×L map is stored in fewer than L² cells. Storage is a stack of P equal blocks of BlockRows×BlockCols
/// cells, data shape (P, B, C, BlockRows, BlockCols), so a convolution over all blocks is one batched convolution.
/// A layout is defined by two functions and everything else (packing, unpacking, the haloed gather of a convolution,
/// batch-norm weights) is derived from them:
/// <list type="bullet">
/// <item><see cref="MapCoordinate"/>: the map entry (i, j) a block position stands for, for any position including the
/// halo around a block (the natural extension of the block's geometry);</item>
/// <item><see cref="CanonicalCell"/>: the one stored cell that holds entry (i, j) = (j, i) for everyone else.</item>
/// </list>
/// A cell is <em>canonical</em> when it is the canonical cell of its own entry. Every layout guarantees that the
/// convolution over a block gathered with its halo (every halo position reads the canonical cell of its entry) gives the
/// exact 'same'-padded result at every canonical cell, for convolution reaches up to <see cref="MaxHalo"/>. Other cells
/// (duplicates, padding) hold finite but unspecified values: nothing reads them, batch norm gives them weight 0, and
/// gradients never reach them.
/// </summary>
public abstract class PackedLayout
{
    private readonly ConcurrentDictionary<long, HaloPlan> halos = new();
    private readonly DeviceTensorCache cache = new();
    private readonly Lazy<CellTables> tables;

    /// <summary>Layouts (with their index tensors) kept per kind before the cache starts over; a layout in use stays valid.</summary>
    protected const int MaxCachedLayouts = 32;

    /// <summary>Side L of the symmetric map.</summary>
    public long Length { get; }
    /// <summary>Stored blocks P.</summary>
    public abstract long BlockCount { get; }
    public abstract long BlockRows { get; }
    public abstract long BlockCols { get; }
    /// <summary>Largest convolution reach (dilation·(k−1)/2) the layout supports.</summary>
    public abstract long MaxHalo { get; }
    /// <summary>
    /// Width of the ring of non-canonical cells around every block (0 = none). With a margin ≥ the reach, a convolution
    /// gathers its halo into a copy of the block's own shape and runs with 'same' padding, so every big tensor of a
    /// packed network (maps, canvases and their gradients) has one size — which lets the allocator reuse freed blocks.
    /// </summary>
    public virtual long Margin => 0;
    /// <summary>Short description for tables and logs.</summary>
    public abstract string Describe();

    /// <summary>Stored cells per block.</summary>
    public long BlockCells => BlockRows * BlockCols;
    /// <summary>Stored cells P·BlockRows·BlockCols.</summary>
    public long Cells => BlockCount * BlockCells;
    /// <summary>Stored cells per channel as a fraction of dense L².</summary>
    public double MemoryFraction => (double)Cells / ((double)Length * Length);

    protected PackedLayout(long length)
    {
        if (length <= 0) throw new ArgumentException($"Packed layout: length must be positive, got {length}.", nameof(length));
        Length = length;
        tables = new Lazy<CellTables>(() => new CellTables(this)); // thread-safe; built on first use, after construction
    }

    /// <summary>The map entry (i, j) that position (r, c) of block q stands for; (r, c) may lie outside the block (halo).</summary>
    public abstract (long I, long J) MapCoordinate(long q, long r, long c);

    /// <summary>Flat storage index q·BlockCells + r·BlockCols + c of the cell holding entry (i, j), 0 ≤ i, j &lt; L.</summary>
    public abstract long CanonicalCell(long i, long j);

    /// <summary>Flat index of the canonical cell of the entry that position (r, c) of block q stands for; −1 outside the map.</summary>
    public long Source(long q, long r, long c)
    {
        var (i, j) = MapCoordinate(q, r, c);
        return i < 0 || j < 0 || i >= Length || j >= Length ? -1 : CanonicalCell(i, j);
    }

    /// <summary>Folded layout (the default): the upper triangle in one ≈ L/2 × L rectangle; see <see cref="FoldedLayout"/>.</summary>
    public static FoldedLayout Folded(long length, long maxHalo, bool withMargin = true) => FoldedLayout.Create(length, maxHalo, withMargin);

    /// <summary>Upper-triangular tiles of side <paramref name="tile"/>; see <see cref="TiledLayout"/>.</summary>
    public static TiledLayout Tiled(long length, long tile) => TiledLayout.Create(length, tile);

    /// <summary>
    /// The default layout for maps of side L and convolutions reaching up to <paramref name="maxHalo"/>: folded
    /// (measured faster and smaller than tiles at every size we benchmarked, docs/performance.md).
    /// </summary>
    public static PackedLayout Default(long length, long maxHalo) => Folded(length, maxHalo);

    /// <summary>
    /// What every packed forward needs about the stored cells, computed in one pass: the entry (i, j) of every cell
    /// (clamped to 0 outside the map) and whether it is inside, and the batch-norm weight exceptions (weight 2 for a
    /// canonical off-diagonal cell, 1 for a canonical diagonal cell, 0 for every other cell; stored as the cells whose
    /// weight is not 2). The dense and canonical index of every cell are <see cref="CellIndex"/>, built only where
    /// used (packing a dense map, drawing a random one): inference never needs them, and at 3,000 nt they are 74 MB.
    /// </summary>
    private sealed class CellTables
    {
        public readonly long[] I, J;
        public readonly float[] Inside;
        public readonly long[] ExceptionBlock, ExceptionOffset;
        public readonly float[] ExceptionWeight;

        public CellTables(PackedLayout layout)
        {
            long cells = layout.Cells, blockCells = layout.BlockCells, cols = layout.BlockCols, l = layout.Length;
            I = new long[cells]; J = new long[cells]; Inside = new float[cells];
            var eb = new List<long>(); var eo = new List<long>(); var ew = new List<float>();
            for (long cell = 0; cell < cells; cell++)
            {
                long q = cell / blockCells, rc = cell % blockCells;
                var (i, j) = layout.MapCoordinate(q, rc / cols, rc % cols);
                bool inside = i >= 0 && j >= 0 && i < l && j < l;
                I[cell] = inside ? i : 0; J[cell] = inside ? j : 0; Inside[cell] = inside ? 1f : 0f;
                float weight = !inside || layout.CanonicalCell(i, j) != cell ? 0f : i == j ? 1f : 2f;
                if (weight != 2f) { eb.Add(q); eo.Add(rc); ew.Add(weight); }
            }
            ExceptionBlock = eb.ToArray(); ExceptionOffset = eo.ToArray(); ExceptionWeight = ew.ToArray();
        }
    }

    /// <summary>
    /// Per stored cell, clamped to 0 outside the map: its dense index i·L + j (<paramref name="canonical"/> false) or the
    /// flat index of its canonical cell (true).
    /// </summary>
    private long[] CellIndex(bool canonical)
    {
        var t = tables.Value;
        var index = new long[Cells];
        for (long cell = 0; cell < index.Length; cell++)
            if (t.Inside[cell] != 0f) index[cell] = canonical ? CanonicalCell(t.I[cell], t.J[cell]) : t.I[cell] * Length + t.J[cell];
        return index;
    }

    /// <summary>
    /// Canonical storage cell of every dense entry, row-major, as int32 while the cells fit (index_select takes either):
    /// the L² table is the largest index a full-length prediction builds (36 instead of 72 MB at 3,000 nt).
    /// </summary>
    internal Tensor UnpackIndex()
    {
        if (Cells > int.MaxValue)
        {
            var wide = new long[Length * Length];
            for (long i = 0; i < Length; i++)
                for (long j = 0; j < Length; j++) wide[i * Length + j] = CanonicalCell(i, j);
            return tensor(wide, dtype: ScalarType.Int64);
        }
        var idx = new int[Length * Length];
        for (long i = 0; i < Length; i++)
            for (long j = 0; j < Length; j++) idx[i * Length + j] = (int)CanonicalCell(i, j);
        return tensor(idx, dtype: ScalarType.Int32);
    }

    /// <summary>The halo plan for a convolution reach of <paramref name="halo"/> on each side.</summary>
    internal HaloPlan Halo(long halo)
    {
        if (halo < 0 || halo > MaxHalo)
            throw new ArgumentException($"Packed conv: a reach of {halo} exceeds what the layout supports ({Describe()}: at most {MaxHalo}); build the layout for the widest kernel of the network.", nameof(halo));
        return halos.GetOrAdd(halo, h => new HaloPlan(this, h));
    }

    internal Tensor UnpackIndexOn(Device device) => cache.Get("unpack", device, UnpackIndex);

    /// <summary>Dense index of every stored cell, clamped to 0 outside the map, with the matching 0/1 mask (P, 1, 1, R, C).</summary>
    internal (Tensor Index, Tensor Mask) PackIndexOn(Device device, ScalarType dtype)
    {
        var idx = cache.Get("pack", device, () => tensor(CellIndex(canonical: false), dtype: ScalarType.Int64));
        return (idx, InsideOn(device, dtype));
    }

    /// <summary>Canonical source of every stored cell (clamped) and the mask of cells inside the map, as for <see cref="PackIndexOn"/>.</summary>
    internal (Tensor Index, Tensor Mask) CanonicalOfOn(Device device, ScalarType dtype)
    {
        var idx = cache.Get("canon", device, () => tensor(CellIndex(canonical: true), dtype: ScalarType.Int64));
        return (idx, InsideOn(device, dtype));
    }

    /// <summary>Weight exceptions on a device: block and offset index tensors, and (2 − weight) per exception.</summary>
    internal (Tensor Block, Tensor Offset, Tensor Deficit, Tensor Weight) WeightExceptionsOn(Device device, ScalarType dtype) =>
        (cache.Get("exb", device, () => tensor(tables.Value.ExceptionBlock, dtype: ScalarType.Int64)),
         cache.Get("exo", device, () => tensor(tables.Value.ExceptionOffset, dtype: ScalarType.Int64)),
         cache.Get(("exd", dtype), device, () => tensor(tables.Value.ExceptionWeight.Select(v => 2f - v).ToArray()).to(dtype)),
         cache.Get(("exw", dtype), device, () => tensor(tables.Value.ExceptionWeight).to(dtype)));

    /// <summary>
    /// (P, 1, 1, R, C) weight of every stored cell in whole-map sums: Σ over the dense map of f(entry) equals
    /// Σ over stored cells of weight·f(cell) (2 canonical off-diagonal, 1 canonical diagonal, 0 otherwise).
    /// </summary>
    public Tensor CellWeightsOn(Device device, ScalarType dtype) => cache.Get(("cellw", dtype), device, () =>
    {
        var w = Enumerable.Repeat(2f, (int)Cells).ToArray();
        var t = tables.Value;
        for (int e = 0; e < t.ExceptionBlock.Length; e++) w[t.ExceptionBlock[e] * BlockCells + t.ExceptionOffset[e]] = t.ExceptionWeight[e];
        return tensor(w, new[] { BlockCount, 1, 1, BlockRows, BlockCols }).to(dtype);
    });

    /// <summary>Map-coordinate tensors (i and j, clamped to [0, L)) of every stored cell, and the 0/1 mask of cells inside the map.</summary>
    internal (Tensor I, Tensor J, Tensor Inside) CoordinatesOn(Device device, ScalarType dtype) =>
        (cache.Get("ci", device, () => tensor(tables.Value.I, dtype: ScalarType.Int64)),
         cache.Get("cj", device, () => tensor(tables.Value.J, dtype: ScalarType.Int64)),
         cache.Get(("cm", dtype), device, () => tensor(tables.Value.Inside).to(dtype)));

    /// <summary>The (P, 1, 1, R, C) 0/1 mask of stored cells inside the map.</summary>
    private Tensor InsideOn(Device device, ScalarType dtype) =>
        cache.Get(("inside", dtype), device, () => tensor(tables.Value.Inside, new[] { BlockCount, 1, 1, BlockRows, BlockCols }).to(dtype));

    /// <summary>What identifies the layout among others of its kind (its construction parameters).</summary>
    protected abstract object Key { get; }

    /// <summary>Layouts are equal when they are of one kind with the same parameters (the caches may hold two instances).</summary>
    public override bool Equals(object? obj) => obj is PackedLayout other && (ReferenceEquals(this, other) || (other.GetType() == GetType() && other.Key.Equals(Key)));
    public override int GetHashCode() => HashCode.Combine(GetType(), Key);

    public override string ToString() => Describe();
}

/// <summary>
/// The folded layout: the upper triangle of the L×L map packed into one rectangle of (L − m + 4h + 1) × L cells,
/// m = ⌊L/2⌋, h = <see cref="MaxHalo"/> (0.518 of dense at L = 512, h = 2), by default surrounded by a margin of h
/// cells (0.530 with it) that holds the convolution halo in place (<see cref="PackedLayout.Margin"/>). Rows 0..m−1 hold the top half of the map
/// as it is (entry (r, c) at cell (r, c), for c ≥ r − 2h: the upper part of the top-left quarter, the whole top-right
/// quarter, and a band of 2h below the diagonal). The bottom-right quarter's lower triangle (with a band of 2h above
/// its diagonal) fills the free lower-left part, shifted down by s = 4h + 1 rows: cell (r, c) with c &lt; r − 2h holds
/// entry (m + r − s, m + c). Every canonical cell (row part: i &lt; m, i ≤ j; shifted part: entries with both indices ≥ m)
/// sees its true neighbourhood within the rectangle's own geometry for reaches ≤ h, so one convolution over the
/// rectangle with a halo gathered at its border is exact there. The seams (bands and borders) are only ever read
/// through canonical cells.
/// </summary>
public sealed class FoldedLayout : PackedLayout
{
    private static readonly ConcurrentDictionary<(long, long, bool), FoldedLayout> ByMargin = new();
    private readonly long h, m, s, rows, margin;

    private FoldedLayout(long length, long maxHalo, bool withMargin) : base(length)
    {
        h = maxHalo; m = length / 2; s = 4 * h + 1; rows = length - m + s; margin = withMargin ? h : 0;
    }

    /// <summary>The (cached) folded layout for maps of side L and convolution reaches up to <paramref name="maxHalo"/>.</summary>
    /// <param name="length">Side L of the maps.</param>
    /// <param name="maxHalo">Largest convolution reach the layout must support.</param>
    /// <param name="withMargin">Surround the rectangle with a margin of <paramref name="maxHalo"/> cells (default; see <see cref="PackedLayout.Margin"/>).</param>
    public static FoldedLayout Create(long length, long maxHalo, bool withMargin = true)
    {
        if (length <= 0) throw new ArgumentException($"Folded layout: length must be positive, got {length}.", nameof(length));
        if (maxHalo < 0) throw new ArgumentException($"Folded layout: the reach must be ≥ 0, got {maxHalo}.", nameof(maxHalo));
        if (ByMargin.Count >= MaxCachedLayouts) ByMargin.Clear(); // each layout keeps its index tensors; many distinct lengths must not pile up
        return ByMargin.GetOrAdd((length, maxHalo, withMargin), k => new FoldedLayout(k.Item1, k.Item2, k.Item3));
    }

    protected override object Key => (Length, h, margin);
    public override long BlockCount => 1;
    public override long BlockRows => rows + 2 * margin;
    public override long BlockCols => Length + 2 * margin;
    public override long MaxHalo => h;
    public override long Margin => margin;
    public override string Describe() => $"folded {BlockRows}×{BlockCols} (reach ≤ {h}{(margin > 0 ? ", in-place halo" : "")}), {MemoryFraction:0.000} of dense";

    public override (long I, long J) MapCoordinate(long q, long r, long c)
    {
        r -= margin; c -= margin;
        return c >= r - 2 * h ? (r, c) : (m + r - s, m + c);
    }

    public override long CanonicalCell(long i, long j)
    {
        if (i > j) (i, j) = (j, i);
        var (r, c) = i < m ? (i, j) : (j - m + s, i - m);
        return (r + margin) * BlockCols + c + margin;
    }
}

/// <summary>
/// Upper-triangular tiles: the map (padded to n_t·T) is cut into n_t×n_t tiles of side T and the P = n_t(n_t+1)/2 tiles
/// (I, J), I ≤ J, are stored row-major over I then J; diagonal tiles are stored in full (their lower halves are
/// duplicates). (n_t+1)/(2 n_t) of dense before halos, e.g. 0.5625 at L = 512, T = 64; each tile is convolved with its
/// own halo of up to T.
/// </summary>
public sealed class TiledLayout : PackedLayout
{
    private static readonly ConcurrentDictionary<(long, long), TiledLayout> Cache = new();
    private readonly long[,] tileIndex;

    /// <summary>Tile side T.</summary>
    public long Tile { get; }
    /// <summary>Tiles per side n_t.</summary>
    public long TilesPerSide { get; }
    /// <summary>Tile row and column of every stored tile.</summary>
    public (long I, long J)[] Tiles { get; }

    private TiledLayout(long length, long tile) : base(length)
    {
        Tile = tile;
        TilesPerSide = (length + tile - 1) / tile;
        var list = new List<(long, long)>();
        tileIndex = new long[TilesPerSide, TilesPerSide];
        for (long i = 0; i < TilesPerSide; i++)
            for (long j = 0; j < TilesPerSide; j++) tileIndex[i, j] = -1;
        for (long i = 0; i < TilesPerSide; i++)
            for (long j = i; j < TilesPerSide; j++) { tileIndex[i, j] = list.Count; list.Add((i, j)); }
        Tiles = list.ToArray();
    }

    /// <summary>The (cached) tiled layout for maps of side L with tiles of side T (clamped to L).</summary>
    public static TiledLayout Create(long length, long tile)
    {
        if (length <= 0) throw new ArgumentException($"Tiled layout: length must be positive, got {length}.", nameof(length));
        if (tile <= 0) throw new ArgumentException($"Tiled layout: tile must be positive, got {tile}.", nameof(tile));
        if (Cache.Count >= MaxCachedLayouts) Cache.Clear();
        return Cache.GetOrAdd((length, Math.Min(tile, length)), k => new TiledLayout(k.Item1, k.Item2));
    }

    /// <summary>Default tile side measured on a 2-core CPU (docs/performance.md): 64 from L = 256 on, 32 for L in [96, 256), else L.</summary>
    public static long DefaultTile(long length) => length >= 256 ? 64 : length >= 96 ? 32 : length;

    protected override object Key => (Length, Tile);
    public override long BlockCount => Tiles.Length;
    public override long BlockRows => Tile;
    public override long BlockCols => Tile;
    public override long MaxHalo => Tile;
    public override string Describe() => $"tiled T={Tile} ({Tiles.Length} tiles), {MemoryFraction:0.000} of dense";

    public override (long I, long J) MapCoordinate(long q, long r, long c) => (Tiles[q].I * Tile + r, Tiles[q].J * Tile + c);

    public override long CanonicalCell(long i, long j)
    {
        if (i > j) (i, j) = (j, i);
        return tileIndex[i / Tile, j / Tile] * Tile * Tile + i % Tile * Tile + j % Tile;
    }
}

/// <summary>
/// How to gather every stored block with a halo of h on each side: positions whose source is the block's own cell are
/// copied as one strided copy (the centre); every other position (halo, and centre cells that are not canonical) is a
/// "ring" entry reading the canonical cell of its entry, or zero outside the map.
/// </summary>
internal sealed class HaloPlan
{
    public readonly long H, Rows, Cols, CanvasRows, CanvasCols;
    /// <summary>Ring entries: canvas block, canvas position (r·CanvasCols + c), source block, source offset in block.</summary>
    public readonly long[] RingQ, RingPos, RingBlock, RingOff;
    /// <summary>Ring entries grouped by source block: (P, AdjWidth) canvas block, canvas position, source offset, 1/0 weight.</summary>
    public readonly long[] AdjQ, AdjPos, AdjOff;
    public readonly float[] AdjWeight;
    public readonly int AdjWidth;
    /// <summary>Canvas positions that are zero (outside the map).</summary>
    public readonly long[] ZeroQ, ZeroPos;
    /// <summary>Stored cells not read by their own centre position (their centre gradient must not flow back).</summary>
    public readonly long[] DeadQ, DeadOff;

    public HaloPlan(PackedLayout layout, long h)
    {
        H = h; Rows = layout.BlockRows; Cols = layout.BlockCols; CanvasRows = Rows + 2 * h; CanvasCols = Cols + 2 * h;
        long cells = layout.BlockCells;
        var rq = new List<long>(); var rp = new List<long>(); var rb = new List<long>(); var ro = new List<long>();
        var zq = new List<long>(); var zp = new List<long>(); var dq = new List<long>(); var doff = new List<long>();
        for (long q = 0; q < layout.BlockCount; q++)
            for (long r = -h; r < Rows + h; r++)
                for (long c = -h; c < Cols + h; c++)
                {
                    long src = layout.Source(q, r, c);
                    bool centre = r >= 0 && r < Rows && c >= 0 && c < Cols;
                    long own = q * cells + r * Cols + c;
                    if (centre && src == own) continue;                      // copied with the centre
                    if (centre) { dq.Add(q); doff.Add(r * Cols + c); }
                    long pos = (r + h) * CanvasCols + c + h;
                    if (src < 0) { zq.Add(q); zp.Add(pos); continue; }
                    rq.Add(q); rp.Add(pos); rb.Add(src / cells); ro.Add(src % cells);
                }
        RingQ = rq.ToArray(); RingPos = rp.ToArray(); RingBlock = rb.ToArray(); RingOff = ro.ToArray();
        ZeroQ = zq.ToArray(); ZeroPos = zp.ToArray(); DeadQ = dq.ToArray(); DeadOff = doff.ToArray();
        // the same entries grouped by source block (padded to equal length) for a scatter-add adjoint along one axis
        var bySource = Enumerable.Range(0, (int)layout.BlockCount).Select(_ => new List<int>()).ToArray();
        for (int e = 0; e < RingBlock.Length; e++) bySource[RingBlock[e]].Add(e);
        AdjWidth = Math.Max(1, bySource.Max(l => l.Count));
        AdjQ = new long[layout.BlockCount * AdjWidth]; AdjPos = new long[AdjQ.Length]; AdjOff = new long[AdjQ.Length]; AdjWeight = new float[AdjQ.Length];
        for (int u = 0; u < bySource.Length; u++)
            for (int r = 0; r < bySource[u].Count; r++)
            {
                int e = bySource[u][r], slot = u * AdjWidth + r;
                AdjQ[slot] = RingQ[e]; AdjPos[slot] = RingPos[e]; AdjOff[slot] = RingOff[e]; AdjWeight[slot] = 1f;
            }
    }

    private readonly DeviceTensorCache cache = new();

    /// <summary>Index tensors of the plan on a device (created once per device and kept).</summary>
    public Tensor Idx(long[] values, Device device) => cache.Get(values, device, () => tensor(values, dtype: ScalarType.Int64));

    /// <summary>A (P, width) index tensor of the plan on a device.</summary>
    public Tensor Idx2(long[] values, long rows, Device device) => cache.Get(("2d", values), device, () => tensor(values, new[] { rows, values.Length / rows }, dtype: ScalarType.Int64));

    /// <summary>The adjoint weights (P, AdjWidth, 1) on a device.</summary>
    public Tensor AdjW(Device device, ScalarType dtype, long p) =>
        cache.Get(("adjw", dtype), device, () => tensor(AdjWeight, new[] { p, (long)AdjWidth, 1 }).to(dtype));
}

/// <summary>Small constant tensors (indices, masks) built once per key and device, kept for the life of the owner.</summary>
internal sealed class DeviceTensorCache
{
    private readonly Dictionary<(object Key, DeviceType Type, int Index), Tensor> tensors = new();

    public Tensor Get(object key, Device device, Func<Tensor> make)
    {
        lock (tensors)
        {
            var k = (key, device.type, device.index);
            if (!tensors.TryGetValue(k, out var t))
            {
                using (NewDisposeScope())
                    t = make().to(device).DetachFromDisposeScope();
                tensors[k] = t;
            }
            return t;
        }
    }
}
