using EquiSharp.Symmetry;
using static TorchSharp.torch;

namespace EquiSharp.Layers.ReverseComplement;

/// <summary>
/// The reverse-complement (RC) symmetry of Shrikumar, Greenside &amp; Kundaje, "Reverse-complement parameter sharing
/// improves deep learning models for genomics", as engine actions. Convention (§3.1.1, Fig. 8): a representation
/// (B, n, L) is RC-structured when channel i detects the reverse complement of what channel n−1−i detects; one-hot
/// DNA in the order ACGT is RC-structured (A↔T = 0↔3, C↔G = 1↔2). The RC of such a tensor reverses the channel
/// axis and the length axis: rc(x)[b, c, l] = x[b, n−1−c, L−1−l].
/// </summary>
public static class ReverseComplementTies
{
    /// <summary>
    /// The complement as a permutation of n RC-structured channels: c ↦ n−1−c (for ACGT this is A↔T, C↔G, i.e.
    /// ACGT → TGCA).
    /// </summary>
    public static int[] Complement(long channels) =>
        Enumerable.Range(0, checked((int)channels)).Select(c => (int)channels - 1 - c).ToArray();

    /// <summary>
    /// Kernel (2F, n, k) of an RC convolution (§3.1.1, Fig. 8): the one generator reverses the length axis, complements
    /// the input channels and sends output channel o to 2F−1−o, i.e. W[2F−1−o, n−1−c, k−1−t] = W[o, c, t]. Its orbits are
    /// pairs across two different filters, so F·n·k free parameters fill the 2F·n·k entries.
    /// </summary>
    public static WeightSymmetry Kernel(long outChannels, long inChannels, long kernelSize)
    {
        var shape = new[] { outChannels, inChannels, kernelSize };
        var rc = IndexAction.Compose(
            IndexAction.Compose(IndexAction.ReverseAxis(shape, 2), IndexAction.PermuteWithinAxis(shape, 1, Complement(inChannels), "complement(in)")),
            IndexAction.PermuteWithinAxis(shape, 0, Complement(outChannels), "complement(out)"));
        return new WeightSymmetry(shape, new[] { rc }, "reverse(length) × complement(in) × complement(out)");
    }

    /// <summary>A per-channel vector (bias, γ, β) of 2F RC-structured channels: v[2F−1−c] = v[c].</summary>
    public static WeightSymmetry Channels(long channels)
    {
        var shape = new[] { channels };
        return new WeightSymmetry(shape, new[] { IndexAction.PermuteWithinAxis(shape, 0, Complement(channels), "complement(channel)") }, "complement(channel)");
    }

    /// <summary>
    /// Weighted-sum weights stored (n, l) (channel, position) (§3.1.3, eq. 1): w[n−1−c, l−1−i] = w[c, i]. The paper writes
    /// w_{ic} = w_{(l−i)(n−1−c)} with a 1-based position; with 0-based positions it is l−1−i.
    /// </summary>
    public static WeightSymmetry WeightedSum(long channels, long length)
    {
        var shape = new[] { channels, length };
        var rc = IndexAction.Compose(IndexAction.PermuteWithinAxis(shape, 0, Complement(channels), "complement(channel)"), IndexAction.ReverseAxis(shape, 1));
        return new WeightSymmetry(shape, new[] { rc }, "complement(channel) × reverse(position)");
    }

    /// <summary>Dense weights (outputs, n) after an RC weighted sum (§3.1.4): w[j, n−1−i] = w[j, i].</summary>
    public static WeightSymmetry Dense(long outputs, long channels)
    {
        var shape = new[] { outputs, channels };
        return new WeightSymmetry(shape, new[] { IndexAction.PermuteWithinAxis(shape, 1, Complement(channels), "complement(in)") }, "complement(in)");
    }

    /// <summary>rc(x) of an RC-structured tensor (B, n, L): channels and length reversed. A (B, n) tensor has its channels reversed.</summary>
    public static Tensor Apply(Tensor x) => x.dim() switch
    {
        2 => x.flip(1),
        3 => x.flip(1, 2),
        _ => throw new ArgumentException($"The reverse complement acts on (B, n) or (B, n, L) tensors, got [{string.Join(", ", x.shape)}]."),
    };

    /// <summary>Checks that a channel count can be RC-structured (even, so no channel is its own partner) — one-hot ACGT has 4.</summary>
    internal static void RequireEvenChannels(string layer, string what, long channels)
    {
        if (channels <= 0 || channels % 2 != 0)
            throw new ArgumentException($"{layer}: {what} must be a positive even number (channel i and n−1−i are reverse-complement partners, so none may be its own), got {channels}.");
    }
}
