using static TorchSharp.torch;

namespace EquiSharp.Pairwise;

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
        var posWeight = tensor((float)positiveWeight, device: logits.device);
        var perEntry = nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction: nn.Reduction.None, pos_weights: posWeight);
        return (perEntry * mask).sum() / mask.sum().clamp_min(1);
    }
}
