using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Pairwise.Packed;

/// <summary>
/// A batch of symmetric maps (B, C, L, L) stored as upper-triangular tiles: <see cref="Data"/> has shape
/// (P, B, C, T, T) (see <see cref="PackedLayout"/>), tile-major so that a batched convolution over all tiles is a
/// view, not a copy. A pending ReLU (<see cref="PendingRelu"/>) is applied by the consumer: a packed convolution applies
/// it to its haloed input, so the activation is stored once (the convolution saves it for backward) instead of twice.
/// Positions outside L×L (when L is not a multiple of T) hold unspecified values and are never read.
/// </summary>
public sealed class PackedSymmetricMap
{
    /// <summary>Tiles (P, B, C, T, T).</summary>
    public Tensor Data { get; }
    public PackedLayout Layout { get; }
    /// <summary>True when ReLU is still to be applied to <see cref="Data"/> (relu(0) = 0, so it commutes with zero padding).</summary>
    public bool PendingRelu { get; }

    public long Batch => Data.shape[1];
    public long Channels => Data.shape[2];
    public long Length => Layout.Length;

    public PackedSymmetricMap(Tensor data, PackedLayout layout, bool pendingRelu = false)
    {
        if (data.dim() != 5 || data.shape[0] != layout.TileCount || data.shape[3] != layout.Tile || data.shape[4] != layout.Tile)
            throw new ArgumentException($"Packed map: expected data (P={layout.TileCount}, B, C, {layout.Tile}, {layout.Tile}), got [{string.Join(", ", data.shape)}].", nameof(data));
        Data = data; Layout = layout; PendingRelu = pendingRelu;
    }

    /// <summary>Packs the upper tiles of a (symmetric) dense batch (B, C, L, L). Differentiable.</summary>
    /// <param name="dense">Symmetric maps (B, C, L, L); only the upper tiles (diagonal tiles in full) are read.</param>
    /// <param name="tile">Tile side; default <see cref="PackedLayout.DefaultTile"/>.</param>
    public static PackedSymmetricMap Pack(Tensor dense, long? tile = null)
    {
        if (dense.dim() != 4 || dense.shape[2] != dense.shape[3])
            throw new ArgumentException($"Pack: expected square maps (B, C, L, L), got [{string.Join(", ", dense.shape)}].", nameof(dense));
        long b = dense.shape[0], c = dense.shape[1], l = dense.shape[2];
        var layout = PackedLayout.Create(l, tile ?? PackedLayout.DefaultTile(l));
        long lp = layout.PaddedLength, t = layout.Tile;
        var padded = lp == l ? dense : nn.functional.pad(dense, new[] { 0L, lp - l, 0L, lp - l });
        var flat = padded.reshape(b, c, lp * lp).index_select(2, layout.PackIndexOn(dense.device));   // (B, C, P·T·T)
        var data = flat.view(b, c, layout.TileCount, t, t).permute(2, 0, 1, 3, 4).contiguous();
        return new PackedSymmetricMap(data, layout);
    }

    /// <summary>
    /// Random symmetric maps drawn directly in packed form (standard normal tiles, diagonal tiles symmetrised as
    /// A + Aᵀ), without building a dense map; zero outside L×L.
    /// </summary>
    public static PackedSymmetricMap Random(PackedLayout layout, long batch, long channels, Device? device = null, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var data = randn(new[] { layout.TileCount, batch, channels, layout.Tile, layout.Tile }, device: device, generator: generator);
        var diag = tensor(layout.Tiles.Select((t, q) => (t, q)).Where(z => z.t.I == z.t.J).Select(z => (long)z.q).ToArray(), device: device);
        var d = data.index_select(0, diag);
        data.index_copy_(0, diag, d.add(d.transpose(3, 4)));
        if (layout.HasPadding) data.mul_(layout.ValidMaskOn(data.device, data.dtype));
        return new PackedSymmetricMap(data.MoveToOuterDisposeScope(), layout);
    }

    /// <summary>The dense symmetric maps (B, C, L, L) (pending activation applied). Differentiable.</summary>
    public Tensor Unpack()
    {
        var d = Materialized();
        long b = Batch, c = Channels, lp = Layout.PaddedLength, l = Layout.Length;
        var flat = d.permute(1, 2, 0, 3, 4).reshape(b, c, Layout.TileCount * Layout.Tile * Layout.Tile);
        var dense = flat.index_select(2, Layout.UnpackIndexOn(d.device)).view(b, c, lp, lp);
        return lp == l ? dense : dense.narrow(2, 0, l).narrow(3, 0, l);
    }

    /// <summary>Data with the pending activation applied.</summary>
    public Tensor Materialized() => PendingRelu ? nn.functional.relu(Data) : Data;

    /// <summary>The same map with the pending activation applied to the stored tiles.</summary>
    public PackedSymmetricMap Materialize() => PendingRelu ? new PackedSymmetricMap(Materialized(), Layout) : this;

    /// <summary>A new map with other tiles on the same layout.</summary>
    public PackedSymmetricMap With(Tensor data, bool pendingRelu = false) => new(data, Layout, pendingRelu);

    public override string ToString() =>
        $"PackedSymmetricMap(B={Batch}, C={Channels}, L={Length}, tile {Layout.Tile}, {Layout.TileCount} tiles, {Layout.MemoryFraction:0.000} of dense{(PendingRelu ? ", pending ReLU" : "")})";
}
