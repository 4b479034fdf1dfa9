using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Applications.Rna.Decoding;

/// <summary>Options for <see cref="GreedyPairDecoder"/>.</summary>
public sealed record GreedyDecoderOptions
{
    /// <summary>Only pairs with probability strictly above this value are considered.</summary>
    public float Threshold { get; init; } = 0.5f;

    /// <summary>Minimum hairpin loop: a pair (i, j) needs j - i - 1 &gt;= this value (3 is the usual biological limit).</summary>
    public int MinHairpinLoop { get; init; }

    /// <summary>Allow only AU, UA, GC, CG, GU and UG pairs; requires a sequence.</summary>
    public bool CanonicalOnly { get; init; }
}

/// <summary>
/// Turns a pair-probability matrix into a secondary structure: repeatedly takes the most probable remaining pair
/// above the threshold and removes its two positions, so every nucleotide pairs at most once. Runs in O(L² + P log P)
/// for P candidates. Ties are broken by smaller i, then smaller j, so the result is deterministic.
/// </summary>
public sealed class GreedyPairDecoder(GreedyDecoderOptions? options = null)
{
    /// <summary>The options in use.</summary>
    public GreedyDecoderOptions Options { get; } = options ?? new GreedyDecoderOptions();

    /// <summary>Decodes an L×L matrix; returns 0-based partners (-1 = unpaired).</summary>
    /// <param name="probabilities">Symmetric matrix; the mean of (i, j) and (j, i) is used, so slight asymmetry is harmless.</param>
    /// <param name="sequence">Needed when <see cref="GreedyDecoderOptions.CanonicalOnly"/> is set.</param>
    public int[] Decode(float[,] probabilities, string? sequence = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        int n = probabilities.GetLength(0);
        if (probabilities.GetLength(1) != n) throw new ArgumentException("The matrix must be square.", nameof(probabilities));
        return DecodeCore(n, (i, j) => probabilities[i, j], sequence);
    }

    /// <summary>Decodes a row-major L×L matrix stored in a flat array.</summary>
    public int[] Decode(float[] probabilities, int length, string? sequence = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        if (length < 0 || probabilities.Length != (long)length * length)
            throw new ArgumentException($"Expected {length}×{length} values but got {probabilities.Length}.", nameof(probabilities));
        return DecodeCore(length, (i, j) => probabilities[i * length + j], sequence);
    }

    private int[] DecodeCore(int n, Func<int, int, float> at, string? sequence)
    {
        if (Options.CanonicalOnly && sequence is null)
            throw new ArgumentException("CanonicalOnly needs the sequence.", nameof(sequence));
        if (sequence is not null && sequence.Length != n)
            throw new ArgumentException($"The sequence has {sequence.Length} letters but the matrix is {n}×{n}.", nameof(sequence));

        var candidates = new List<(float P, int I, int J)>();
        int minGap = Math.Max(1, Options.MinHairpinLoop + 1);
        for (int i = 0; i < n; i++)
            for (int j = i + minGap; j < n; j++)
            {
                float p = 0.5f * (at(i, j) + at(j, i));
                // NaN fails this comparison, so broken outputs are never paired.
                if (!(p > Options.Threshold)) continue;
                if (Options.CanonicalOnly && !IsCanonical(sequence![i], sequence[j])) continue;
                candidates.Add((p, i, j));
            }
        candidates.Sort((a, b) => a.P != b.P ? b.P.CompareTo(a.P) : a.I != b.I ? a.I.CompareTo(b.I) : a.J.CompareTo(b.J));

        var partners = new int[n];
        Array.Fill(partners, -1);
        foreach (var (_, i, j) in candidates)
        {
            if (partners[i] >= 0 || partners[j] >= 0) continue;
            partners[i] = j;
            partners[j] = i;
        }
        return partners;
    }

    /// <summary>Watson-Crick or wobble pair (AU, UA, GC, CG, GU, UG); T counts as U, case-insensitive.</summary>
    public static bool IsCanonical(char a, char b) => (RnaStructure.BaseIndex(a), RnaStructure.BaseIndex(b)) switch
    {
        (0, 3) or (3, 0) or (1, 2) or (2, 1) or (2, 3) or (3, 2) => true,
        _ => false,
    };
}
