using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise;

/// <summary>
/// Self-Cartesian product (SCNN eq. 1): (B, L, n) → (B, 2n, L, L) with entry (i, j) = [x_i; x_j].
/// With lengths, each sequence's L_b×L_b block equals its unbatched product and everything outside it is zero.
/// </summary>
public sealed class SelfCartesian : nn.Module<Tensor, Tensor>
{
    public SelfCartesian() : base(nameof(SelfCartesian)) { }

    public override Tensor forward(Tensor x) => forward(x, null);

    /// <param name="x">Sequence features (B, L, n).</param>
    /// <param name="lengths">Optional true lengths (B) of a padded batch.</param>
    public Tensor forward(Tensor x, Tensor? lengths)
    {
        if (x.dim() != 3) throw new ArgumentException($"SelfCartesian: expected (B, L, n), got [{string.Join(", ", x.shape)}].");
        long b = x.shape[0], l = x.shape[1], n = x.shape[2];
        var xt = x.transpose(1, 2);                                     // (B, n, L)
        var rows = xt.unsqueeze(3).expand(b, n, l, l);                  // x_i along rows
        var cols = xt.unsqueeze(2).expand(b, n, l, l);                  // x_j along columns
        var y = cat(new[] { rows, cols }, 1);
        return lengths is null ? y : y.mul(PairMask.FromLengths(lengths, l, x.dtype));
    }
}

/// <summary>Masks for padded batches of pair maps: 1 inside each sequence's L_b×L_b block, 0 outside.</summary>
public static class PairMask
{
    /// <summary>(B, 1, L, L) mask from lengths (B).</summary>
    public static Tensor FromLengths(Tensor lengths, long maxLength, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        var pos = KeptScalar.Range(maxLength, device: lengths.device);
        var valid = pos.unsqueeze(0).lt(lengths.to(int64).unsqueeze(1));                 // (B, L)
        var mask = valid.unsqueeze(2).logical_and(valid.unsqueeze(1)).unsqueeze(1);     // (B, 1, L, L)
        return mask.to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>(B, L) mask of valid positions.</summary>
    public static Tensor SequenceMask(Tensor lengths, long maxLength, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        var pos = KeptScalar.Range(maxLength, device: lengths.device);
        return pos.unsqueeze(0).lt(lengths.to(int64).unsqueeze(1)).to(dtype).MoveToOuterDisposeScope();
    }
}
