using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise;

/// <summary>Losses on pair maps, shared by every pair-prediction application (RNA pairs, protein contacts).</summary>
public static class PairLoss
{
    /// <summary>
    /// Weighted binary cross-entropy over the strict upper triangle (i &lt; j) of each valid L_b×L_b block: positives
    /// weighted by <paramref name="positiveWeight"/> (SCNN IV-B: "a weighted positive prediction term"), averaged over
    /// the valid pairs of the batch.
    /// </summary>
    /// <param name="logits">(B, L, L) pre-sigmoid scores.</param>
    /// <param name="labels">(B, L, L) 0/1 targets.</param>
    /// <param name="lengths">(B) true lengths; null = all L.</param>
    /// <param name="positiveWeight">Weight of positive entries.</param>
    public static Tensor UpperTriangleWeightedBce(Tensor logits, Tensor labels, Tensor? lengths, double positiveWeight)
    {
        long l = logits.shape[^1];
        var upper = ones(l, l, device: logits.device).triu(1);
        var mask = lengths is null ? upper.unsqueeze(0) : PairMask.FromLengths(lengths, l, logits.dtype).squeeze(1) * upper;
        return MaskedWeightedBce(logits, labels, mask, positiveWeight);
    }

    /// <summary>
    /// The same loss restricted to pairs of evaluable residues: pair (i, j), i &lt; j, counts when residue mask
    /// m_b[i] = m_b[j] = 1 (e.g. protein residues that map to an alignment column and have coordinates; padding is 0).
    /// Loss = Σ_b Σ_{i&lt;j} m_b[i] m_b[j] w(y) BCE(x, y) / Σ_b Σ_{i&lt;j} m_b[i] m_b[j], with w = positiveWeight for y = 1.
    /// </summary>
    /// <param name="logits">(B, L, L) pre-sigmoid scores.</param>
    /// <param name="labels">(B, L, L) 0/1 targets.</param>
    /// <param name="residueMask">(B, L) 1 for residues that count, 0 for unmapped residues and padding.</param>
    /// <param name="positiveWeight">Weight of positive entries.</param>
    public static Tensor ResidueMaskedUpperTriangleWeightedBce(Tensor logits, Tensor labels, Tensor residueMask, double positiveWeight)
    {
        long l = logits.shape[^1];
        if (residueMask.dim() != 2 || residueMask.shape[0] != logits.shape[0] || residueMask.shape[1] != l)
            throw new ArgumentException($"Expected a residue mask ({logits.shape[0]}, {l}), got [{string.Join(", ", residueMask.shape)}].");
        var m = residueMask.to(logits.dtype);
        var pairs = m.unsqueeze(2) * m.unsqueeze(1) * ones(l, l, dtype: logits.dtype, device: logits.device).triu(1);
        return MaskedWeightedBce(logits, labels, pairs, positiveWeight);
    }

    /// <summary>Positive-weighted BCE averaged over the entries where the (broadcastable) pair mask is 1.</summary>
    private static Tensor MaskedWeightedBce(Tensor logits, Tensor labels, Tensor pairMask, double positiveWeight)
    {
        var posWeight = tensor((float)positiveWeight, device: logits.device);
        var perEntry = nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction: nn.Reduction.None, pos_weights: posWeight);
        return (perEntry * pairMask).sum() / pairMask.sum().clamp_min(KeptScalar.Of(1));
    }
}
