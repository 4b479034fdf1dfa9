using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Pairwise.Packed;

/// <summary>
/// A batch of symmetric maps (B, C, L, L) stored in a <see cref="PackedLayout"/>: <see cref="Data"/> has shape
/// (P, B, C, BlockRows, BlockCols), block-major so that a batched convolution over all blocks is a view, not a copy.
/// Only canonical cells carry the map (see <see cref="PackedLayout"/>); other cells hold finite unspecified values and
/// are never read. A pending ReLU (<see cref="PendingRelu"/>) is applied by the consumer: a packed convolution applies
/// it to its haloed input, so the activation is stored once (the convolution saves it for backward) instead of twice.
/// </summary>
public sealed class PackedSymmetricMap
{
    /// <summary>Blocks (P, B, C, BlockRows, BlockCols).</summary>
    public Tensor Data { get; }
    public PackedLayout Layout { get; }
    /// <summary>True when ReLU is still to be applied to <see cref="Data"/> (relu(0) = 0, so it commutes with zero padding).</summary>
    public bool PendingRelu { get; }
    /// <summary>
    /// True when every cell (not only the canonical ones) holds the value of the entry it stands for and cells outside
    /// the map are zero: with an in-place-halo layout the data is then already a convolution canvas (no gather needed).
    /// </summary>
    public bool HaloFilled { get; }

    public long Batch => Data.shape[1];
    public long Channels => Data.shape[2];
    public long Length => Layout.Length;

    public PackedSymmetricMap(Tensor data, PackedLayout layout, bool pendingRelu = false, bool haloFilled = false)
    {
        if (data.dim() != 5 || data.shape[0] != layout.BlockCount || data.shape[3] != layout.BlockRows || data.shape[4] != layout.BlockCols)
            throw new ArgumentException($"Packed map: expected data (P={layout.BlockCount}, B, C, {layout.BlockRows}, {layout.BlockCols}) for the {layout.Describe()} layout, got [{string.Join(", ", data.shape)}].", nameof(data));
        Data = data; Layout = layout; PendingRelu = pendingRelu; HaloFilled = haloFilled;
    }

    /// <summary>Packs a (symmetric) dense batch (B, C, L, L): every stored cell reads its entry. Differentiable.</summary>
    /// <param name="dense">Symmetric maps (B, C, L, L).</param>
    /// <param name="layout">Layout for side L (e.g. <see cref="PackedLayout.Default"/>).</param>
    public static PackedSymmetricMap Pack(Tensor dense, PackedLayout layout)
    {
        if (dense.dim() != 4 || dense.shape[2] != dense.shape[3])
            throw new ArgumentException($"Pack: expected square maps (B, C, L, L), got [{string.Join(", ", dense.shape)}].", nameof(dense));
        if (dense.shape[2] != layout.Length)
            throw new ArgumentException($"Pack: maps have side {dense.shape[2]}, the layout is for side {layout.Length}.", nameof(layout));
        long b = dense.shape[0], c = dense.shape[1], l = layout.Length;
        var (idx, mask) = layout.PackIndexOn(dense.device, dense.dtype);
        var flat = dense.reshape(b, c, l * l).index_select(2, idx);                                      // (B, C, cells)
        var data = flat.view(b, c, layout.BlockCount, layout.BlockRows, layout.BlockCols).permute(2, 0, 1, 3, 4).mul(mask);
        return new PackedSymmetricMap(data.contiguous(), layout);
    }

    /// <summary>
    /// Random symmetric maps drawn directly in packed form (standard normal at canonical cells, every other cell a copy
    /// of its canonical cell, zero outside the map), without building a dense map.
    /// </summary>
    public static PackedSymmetricMap Random(PackedLayout layout, long batch, long channels, Device? device = null, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        long p = layout.BlockCount;
        var raw = randn(new[] { p, batch, channels, layout.BlockRows, layout.BlockCols }, device: device, generator: generator);
        var (idx, mask) = layout.CanonicalOfOn(raw.device, raw.dtype);
        var flat = raw.permute(1, 2, 0, 3, 4).reshape(batch, channels, layout.Cells).index_select(2, idx);
        var data = flat.view(batch, channels, p, layout.BlockRows, layout.BlockCols).permute(2, 0, 1, 3, 4).mul(mask).contiguous();
        return new PackedSymmetricMap(data.MoveToOuterDisposeScope(), layout);
    }

    /// <summary>The dense symmetric maps (B, C, L, L) (pending activation applied); reads canonical cells only. Differentiable.</summary>
    public Tensor Unpack()
    {
        var d = Materialized();
        long b = Batch, c = Channels, l = Layout.Length;
        var flat = d.permute(1, 2, 0, 3, 4).reshape(b, c, Layout.Cells);
        return flat.index_select(2, Layout.UnpackIndexOn(d.device)).view(b, c, l, l);
    }

    /// <summary>Data with the pending activation applied.</summary>
    public Tensor Materialized() => PendingRelu ? nn.functional.relu(Data) : Data;

    /// <summary>A new map with other data on the same layout.</summary>
    public PackedSymmetricMap With(Tensor data, bool pendingRelu = false, bool haloFilled = false) => new(data, Layout, pendingRelu, haloFilled);

    /// <summary>Maps concatenated along channels (same layout, batch and pending activation handled).</summary>
    public static PackedSymmetricMap Concat(params PackedSymmetricMap[] maps)
    {
        if (maps.Length == 0) throw new ArgumentException("Concat: no maps.", nameof(maps));
        var layout = maps[0].Layout;
        if (maps.Any(x => !x.Layout.Equals(layout)))
            throw new ArgumentException("Concat: all maps must share one layout.", nameof(maps));
        bool relu = maps.All(x => x.PendingRelu);
        return new PackedSymmetricMap(cat(maps.Select(x => relu ? x.Data : x.Materialized()).ToArray(), 2), layout, relu, maps.All(x => x.HaloFilled));
    }

    /// <summary>Multiplies every map by a packed 0/1 mask (P, B, 1, R, C) (e.g. the valid L_b×L_b block of each sequence).</summary>
    public PackedSymmetricMap Masked(Tensor? packedMask) => packedMask is null ? this : With(Data.mul(packedMask), PendingRelu, HaloFilled);

    /// <summary>
    /// The packed (P, B, 1, R, C) 0/1 mask of each sequence's valid block (entries (i, j) with i, j &lt; L_b), or null
    /// without lengths.
    /// </summary>
    public static Tensor? BlockMask(PackedLayout layout, Tensor? lengths, ScalarType dtype)
    {
        if (lengths is null) return null;
        using var scope = NewDisposeScope();
        var dev = lengths.device;
        var (ii, jj, inside) = layout.CoordinatesOn(dev, dtype);
        var len = lengths.to(ScalarType.Int64).view(-1, 1);                                       // (B, 1)
        var ok = ii.unsqueeze(0).lt(len).logical_and(jj.unsqueeze(0).lt(len)).to(dtype).mul(inside);   // (B, cells)
        long b = len.shape[0];
        return ok.view(b, layout.BlockCount, 1, layout.BlockRows, layout.BlockCols).permute(1, 0, 2, 3, 4).contiguous().MoveToOuterDisposeScope();
    }

    public override string ToString() =>
        $"PackedSymmetricMap(B={Batch}, C={Channels}, L={Length}, {Layout.Describe()}{(PendingRelu ? ", pending ReLU" : "")})";
}
