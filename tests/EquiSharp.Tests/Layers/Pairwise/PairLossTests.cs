using EquiSharp.Layers.Pairwise;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.Pairwise;

public class PairLossTests
{
    private static (Tensor Logits, Tensor Labels) Random(int b, int l, int seed)
    {
        var g = new TorchSharp.torch.Generator((ulong)seed);
        return (randn(new long[] { b, l, l }, generator: g), (rand(new long[] { b, l, l }, generator: g) < KeptScalar.Of(0.3)).to(ScalarType.Float32));
    }

    [Fact]
    public void ResidueMaskedLossIgnoresEveryPairOfAMaskedResidue()
    {
        using var scope = NewDisposeScope();
        var (logits, labels) = Random(2, 9, 1);
        var mask = ones(2, 9);
        mask[0, 4] = 0;   // an unmapped residue
        mask[1, 7] = 0;
        double before = PairLoss.ResidueMaskedUpperTriangleWeightedBce(logits, labels, mask, 5).item<float>();
        var changedLogits = logits.clone();
        var changedLabels = labels.clone();
        foreach (var (b, r) in new[] { (0, 4), (1, 7) })
        {
            changedLogits[b, r] = ones(9).mul(KeptScalar.Of(40)); changedLogits[b, TensorIndex.Colon, r] = ones(9).mul(KeptScalar.Of(-40));
            changedLabels[b, r] = changedLabels[b, r].neg().add(KeptScalar.Of(1), KeptScalar.One); changedLabels[b, TensorIndex.Colon, r] = changedLabels[b, TensorIndex.Colon, r].neg().add(KeptScalar.Of(1), KeptScalar.One);
        }
        Assert.Equal(before, PairLoss.ResidueMaskedUpperTriangleWeightedBce(changedLogits, changedLabels, mask, 5).item<float>(), 6);
        // a pair of two unmasked residues does count
        changedLogits[0, 1, 2] = changedLogits[0, 1, 2].add(KeptScalar.Of(3), KeptScalar.One);
        Assert.NotEqual(before, PairLoss.ResidueMaskedUpperTriangleWeightedBce(changedLogits, changedLabels, mask, 5).item<float>(), 4);
    }

    /// <summary>The mean over counted pairs, written out with loops: Σ m_i m_j w(y) BCE / Σ m_i m_j over i &lt; j.</summary>
    [Fact]
    public void ResidueMaskedLossIsTheWeightedMeanOverCountedUpperPairs()
    {
        using var scope = NewDisposeScope();
        var (logits, labels) = Random(2, 6, 2);
        var mask = tensor(new float[] { 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0 }).reshape(2, 6);
        double sum = 0, count = 0;
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 6; i++)
                for (int j = i + 1; j < 6; j++)
                {
                    if (mask[b, i].item<float>() == 0 || mask[b, j].item<float>() == 0) continue;
                    double x = logits[b, i, j].item<float>(), y = labels[b, i, j].item<float>();
                    double p = 1 / (1 + Math.Exp(-x));
                    sum += -(5 * y * Math.Log(p) + (1 - y) * Math.Log(1 - p));
                    count++;
                }
        Assert.Equal(sum / count, PairLoss.ResidueMaskedUpperTriangleWeightedBce(logits, labels, mask, 5).item<float>(), 5);
    }

    [Fact]
    public void A_mask_of_the_lengths_gives_the_length_masked_loss()
    {
        using var scope = NewDisposeScope();
        var (logits, labels) = Random(3, 7, 3);
        var lengths = tensor(new long[] { 7, 4, 5 });
        var mask = PairMask.SequenceMask(lengths, 7);
        Assert.Equal(PairLoss.UpperTriangleWeightedBce(logits, labels, lengths, 5).item<float>(),
            PairLoss.ResidueMaskedUpperTriangleWeightedBce(logits, labels, mask, 5).item<float>(), 6);
    }
}
