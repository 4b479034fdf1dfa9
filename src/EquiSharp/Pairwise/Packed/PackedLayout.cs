using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Pairwise.Packed;

/// <summary>
/// Geometry of a packed symmetric L×L map: the map is cut into n_t×n_t tiles of side T (L padded up to L_p = n_t·T)
/// and only the P = n_t(n_t+1)/2 tiles (I, J) with I ≤ J are stored, row-major over I then J. Diagonal tiles are stored
/// in full (both halves); an off-diagonal tile (I, J) also stands for its mirror (J, I) = (I, J)ᵀ. Memory is
/// (n_t+1)/(2 n_t) of dense, e.g. 0.5625 at L = 512, T = 64.
/// </summary>
public sealed class PackedLayout
{
    private static readonly ConcurrentDictionary<(long, long), PackedLayout> Cache = new();
    private readonly ConcurrentDictionary<long, HaloPlan> halos = new();

    /// <summary>Side of the symmetric map.</summary>
    public long Length { get; }
    /// <summary>Tile side T.</summary>
    public long Tile { get; }
    /// <summary>Tiles per side n_t.</summary>
    public long TilesPerSide { get; }
    /// <summary>Padded side n_t·T.</summary>
    public long PaddedLength => TilesPerSide * Tile;
    /// <summary>Stored tiles P = n_t(n_t+1)/2.</summary>
    public long TileCount { get; }
    /// <summary>Tile row and column of every stored tile.</summary>
    public (long I, long J)[] Tiles { get; }
    /// <summary>Stored elements per channel as a fraction of dense L².</summary>
    public double MemoryFraction => (double)TileCount * Tile * Tile / ((double)Length * Length);
    /// <summary>True when L is not a multiple of T (positions ≥ L inside the last tiles are padding).</summary>
    public bool HasPadding => PaddedLength != Length;
    private readonly long[,] tileIndex;

    private PackedLayout(long length, long tile)
    {
        Length = length; Tile = tile;
        TilesPerSide = (length + tile - 1) / tile;
        var list = new List<(long, long)>();
        tileIndex = new long[TilesPerSide, TilesPerSide];
        for (long i = 0; i < TilesPerSide; i++)
            for (long j = 0; j < TilesPerSide; j++) tileIndex[i, j] = -1;
        for (long i = 0; i < TilesPerSide; i++)
            for (long j = i; j < TilesPerSide; j++) { tileIndex[i, j] = list.Count; list.Add((i, j)); }
        Tiles = list.ToArray();
        TileCount = Tiles.Length;
    }

    /// <summary>The (cached) layout for maps of side <paramref name="length"/> with tiles of side <paramref name="tile"/>.</summary>
    public static PackedLayout Create(long length, long tile)
    {
        if (length <= 0) throw new ArgumentException($"Packed layout: length must be positive, got {length}.", nameof(length));
        if (tile <= 0) throw new ArgumentException($"Packed layout: tile must be positive, got {tile}.", nameof(tile));
        return Cache.GetOrAdd((length, Math.Min(tile, length)), k => new PackedLayout(k.Item1, k.Item2));
    }

    /// <summary>
    /// Default tile side, chosen by measurement on a 2-core CPU (docs/performance.md): 64 from L = 256 on (0.5625 of dense
    /// memory at L = 512 with a small halo overhead and large enough convolution batches), 32 for L in [96, 256), else L.
    /// </summary>
    public static long DefaultTile(long length) => length >= 256 ? 64 : length >= 96 ? 32 : length;

    /// <summary>Index of stored tile (I, J), I ≤ J; −1 if not stored.</summary>
    public long IndexOf(long i, long j) => i >= 0 && j >= 0 && i < TilesPerSide && j < TilesPerSide ? tileIndex[i, j] : -1;

    /// <summary>Weight of every stored tile in whole-map sums: 1 on the diagonal, 2 off it (the tile and its mirror).</summary>
    public float[] TileWeights() => Tiles.Select(t => t.I == t.J ? 1f : 2f).ToArray();

    /// <summary>
    /// Flat index (into a (P·T·T) tile-major buffer) of every element of the padded L_p×L_p map, row-major:
    /// (s, t) reads its upper tile directly, or the transposed element of the mirror tile.
    /// </summary>
    internal long[] UnpackIndex()
    {
        long lp = PaddedLength, tt = Tile * Tile;
        var idx = new long[lp * lp];
        for (long s = 0; s < lp; s++)
            for (long t = 0; t < lp; t++)
            {
                long i = s / Tile, j = t / Tile, r = s % Tile, c = t % Tile;
                idx[s * lp + t] = i <= j ? tileIndex[i, j] * tt + r * Tile + c : tileIndex[j, i] * tt + c * Tile + r;
            }
        return idx;
    }

    /// <summary>Flat index (into the padded L_p×L_p map) of every stored element, tile-major.</summary>
    internal long[] PackIndex()
    {
        long lp = PaddedLength, tt = Tile * Tile;
        var idx = new long[TileCount * tt];
        for (long q = 0; q < TileCount; q++)
        {
            var (i, j) = Tiles[q];
            for (long r = 0; r < Tile; r++)
                for (long c = 0; c < Tile; c++) idx[q * tt + r * Tile + c] = (i * Tile + r) * lp + j * Tile + c;
        }
        return idx;
    }

    /// <summary>(P, 1, 1, T, T) 0/1 mask of positions inside the L×L map (all ones when L is a multiple of T).</summary>
    internal float[] ValidMask()
    {
        long tt = Tile * Tile;
        var m = new float[TileCount * tt];
        for (long q = 0; q < TileCount; q++)
        {
            var (i, j) = Tiles[q];
            for (long r = 0; r < Tile; r++)
                for (long c = 0; c < Tile; c++) m[q * tt + r * Tile + c] = i * Tile + r < Length && j * Tile + c < Length ? 1f : 0f;
        }
        return m;
    }

    private readonly DeviceTensorCache cache = new();
    internal Tensor UnpackIndexOn(Device device) => cache.Get("unpack", device, () => tensor(UnpackIndex(), dtype: ScalarType.Int64));
    internal Tensor PackIndexOn(Device device) => cache.Get("pack", device, () => tensor(PackIndex(), dtype: ScalarType.Int64));
    /// <summary>(P, 1, 1, T, T) valid-position mask on a device.</summary>
    internal Tensor ValidMaskOn(Device device, ScalarType dtype) =>
        cache.Get(("valid", dtype), device, () => tensor(ValidMask(), new[] { TileCount, 1, 1, Tile, Tile }).to(dtype));
    /// <summary>(P) tile weights on a device.</summary>
    public Tensor TileWeightsOn(Device device, ScalarType dtype) => cache.Get(("w", dtype), device, () => tensor(TileWeights()).to(dtype));

    /// <summary>The halo plan for a convolution reach of <paramref name="halo"/> (≤ T) on each side.</summary>
    internal HaloPlan Halo(long halo)
    {
        if (halo > Tile) throw new ArgumentException($"Packed conv: halo {halo} exceeds the tile side {Tile}; use larger tiles.", nameof(halo));
        return halos.GetOrAdd(halo, h => new HaloPlan(this, h));
    }
}

/// <summary>
/// How to gather every stored tile with a halo of h on each side from the packed tiles: the centre is the tile itself;
/// every halo ("ring") element (s, t) of the padded map is read from its stored tile directly when s/T ≤ t/T, from the
/// mirror tile transposed when below the diagonal, and is zero outside the map.
/// </summary>
internal sealed class HaloPlan
{
    public readonly long H, T, Th;
    /// <summary>(P, 1, 1, Th, Th) 0/1 mask of canvas positions inside the L×L map; null when L is a multiple of T.</summary>
    public readonly float[]? CanvasMask;
    /// <summary>Halo ring entries: canvas tile, canvas position (r·Th + c), source tile, source offset (row·T + col).</summary>
    public readonly long[] RingQ, RingPos, RingTile, RingOff;
    /// <summary>Ring entries grouped by source tile: (P, AdjWidth) canvas tile, canvas position, source offset, 1/0 weight.</summary>
    public readonly long[] AdjQ, AdjPos, AdjOff;
    public readonly float[] AdjWeight;
    public readonly int AdjWidth;
    /// <summary>Canvas entries outside the padded map (always zero).</summary>
    public readonly long[] ZeroQ, ZeroPos;


    public HaloPlan(PackedLayout layout, long h)
    {
        H = h; T = layout.Tile; Th = T + 2 * h;
        // the halo ring of every canvas tile as flat lists: canvas (tile q, position r·Th+c) ← stored (tile, offset), or zero
        var rq = new List<long>(); var rp = new List<long>(); var rt = new List<long>(); var ro = new List<long>();
        var zq = new List<long>(); var zp = new List<long>();
        long lp = layout.PaddedLength;
        for (long q = 0; q < layout.TileCount; q++)
        {
            var (ti, tj) = layout.Tiles[q];
            for (long r = 0; r < Th; r++)
                for (long c = 0; c < Th; c++)
                {
                    if (r >= h && r < h + T && c >= h && c < h + T) continue; // centre: copied directly
                    long s = ti * T + r - h, t = tj * T + c - h;
                    if (s < 0 || t < 0 || s >= lp || t >= lp) { zq.Add(q); zp.Add(r * Th + c); continue; }
                    long i = s / T, j = t / T;
                    rq.Add(q); rp.Add(r * Th + c);
                    if (i <= j) { rt.Add(layout.IndexOf(i, j)); ro.Add(s % T * T + t % T); }
                    else { rt.Add(layout.IndexOf(j, i)); ro.Add(t % T * T + s % T); }
                }
        }
        RingQ = rq.ToArray(); RingPos = rp.ToArray(); RingTile = rt.ToArray(); RingOff = ro.ToArray();
        // the same entries grouped by source tile (padded to equal length) for a scatter-add adjoint along one axis
        var bySource = Enumerable.Range(0, (int)layout.TileCount).Select(_ => new List<int>()).ToArray();
        for (int e = 0; e < RingTile.Length; e++) bySource[RingTile[e]].Add(e);
        AdjWidth = Math.Max(1, bySource.Max(l => l.Count));
        AdjQ = new long[layout.TileCount * AdjWidth]; AdjPos = new long[AdjQ.Length]; AdjOff = new long[AdjQ.Length]; AdjWeight = new float[AdjQ.Length];
        for (int u = 0; u < bySource.Length; u++)
            for (int r = 0; r < bySource[u].Count; r++)
            {
                int e = bySource[u][r], slot = u * AdjWidth + r;
                AdjQ[slot] = RingQ[e]; AdjPos[slot] = RingPos[e]; AdjOff[slot] = RingOff[e]; AdjWeight[slot] = 1f;
            }
        ZeroQ = zq.ToArray(); ZeroPos = zp.ToArray();
        if (layout.HasPadding)
        {
            long l = layout.Length, tt = Th * Th;
            CanvasMask = new float[layout.TileCount * tt];
            for (long q = 0; q < layout.TileCount; q++)
            {
                var (i, j) = layout.Tiles[q];
                for (long r = 0; r < Th; r++)
                    for (long c = 0; c < Th; c++)
                    {
                        long s = i * T + r - h, t = j * T + c - h;
                        CanvasMask[q * tt + r * Th + c] = s >= 0 && t >= 0 && s < l && t < l ? 1f : 0f;
                    }
            }
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

    /// <summary>The canvas mask on a device.</summary>
    public Tensor Mask(Device device, ScalarType dtype, long p) =>
        cache.Get(("mask", dtype), device, () => tensor(CanvasMask!, new[] { p, 1, 1, Th, Th }).to(dtype));
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
