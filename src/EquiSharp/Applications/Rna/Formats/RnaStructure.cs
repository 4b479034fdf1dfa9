using System.Text;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>
/// An RNA sequence with its secondary structure (possibly pseudoknotted).
/// </summary>
/// <remarks>
/// <see cref="Sequence"/> holds only the letters A, C, G, U and N (N = any other symbol).
/// <see cref="Partners"/> gives, for each 0-based position, the 0-based index of its partner or -1 when unpaired.
/// The constructor validates length, range, symmetry and self-pairs and throws <see cref="ArgumentException"/>.
/// The array is not copied, so callers should treat it as read-only; <c>with</c> expressions are not re-validated.
/// Equality compares name, sequence and pairs by value.
/// </remarks>
public sealed record RnaStructure(string Name, string Sequence, int[] Partners)
{
    /// <summary>Record name (never null).</summary>
    public string Name { get; init; } = Name ?? throw new ArgumentNullException(nameof(Name));

    /// <summary>Sequence over A, C, G, U, N.</summary>
    public string Sequence { get; init; } = CheckSequence(Sequence);

    /// <summary>0-based partner index per position, -1 = unpaired.</summary>
    public int[] Partners { get; init; } = CheckPartners(Partners, Sequence);

    /// <summary>Number of nucleotides.</summary>
    public int Length => Sequence.Length;

    /// <summary>Number of base pairs.</summary>
    public int PairCount => Partners.Count(p => p >= 0) / 2;

    /// <summary>Base pairs as (I, J) with I &lt; J, in increasing order of I.</summary>
    public IEnumerable<(int I, int J)> Pairs()
    {
        for (int i = 0; i < Partners.Length; i++)
            if (Partners[i] > i) yield return (i, Partners[i]);
    }

    /// <summary>Index of a base: A=0, C=1, G=2, U=3 (also T), anything else 4. Case-insensitive.</summary>
    public static int BaseIndex(char c) => char.ToUpperInvariant(c) switch
    {
        'A' => 0,
        'C' => 1,
        'G' => 2,
        'U' or 'T' => 3,
        _ => 4,
    };

    /// <summary>The letter for a base index (0..3 → A,C,G,U; anything else → N).</summary>
    public static char BaseLetter(int index) => index switch { 0 => 'A', 1 => 'C', 2 => 'G', 3 => 'U', _ => 'N' };

    /// <summary>
    /// Maps raw sequence text to A/C/G/U/N: lower case is accepted, T reads as U, every other symbol
    /// (including N and IUPAC codes) becomes N and is counted in <paramref name="unknownCount"/>.
    /// </summary>
    public static string NormalizeSequence(ReadOnlySpan<char> raw, out int unknownCount)
    {
        unknownCount = 0;
        var sb = new StringBuilder(raw.Length);
        foreach (char c in raw)
        {
            char b = BaseLetter(BaseIndex(c));
            if (b == 'N') unknownCount++;
            sb.Append(b);
        }
        return sb.ToString();
    }

    /// <summary>Builds partners from a list of pairs; throws <see cref="ArgumentException"/> on overlaps or bad indices.</summary>
    public static int[] PartnersFromPairs(int length, IEnumerable<(int I, int J)> pairs)
    {
        var partners = new int[length];
        Array.Fill(partners, -1);
        foreach (var (i, j) in pairs)
        {
            if (i < 0 || j < 0 || i >= length || j >= length || i == j)
                throw new ArgumentException($"Pair ({i}, {j}) is invalid for length {length}.", nameof(pairs));
            if (partners[i] >= 0 || partners[j] >= 0)
                throw new ArgumentException($"Pair ({i}, {j}) reuses an already paired position.", nameof(pairs));
            partners[i] = j;
            partners[j] = i;
        }
        return partners;
    }

    /// <inheritdoc />
    public bool Equals(RnaStructure? other) =>
        other is not null && Name == other.Name && Sequence == other.Sequence && Partners.AsSpan().SequenceEqual(other.Partners);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Sequence, PairCount);

    private static string CheckSequence(string sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        foreach (char c in sequence)
            if (c is not ('A' or 'C' or 'G' or 'U' or 'N'))
                throw new ArgumentException($"Sequence letter '{c}' is not one of A, C, G, U, N; use NormalizeSequence first.", nameof(Sequence));
        return sequence;
    }

    private static int[] CheckPartners(int[] partners, string sequence)
    {
        ArgumentNullException.ThrowIfNull(partners);
        if (partners.Length != sequence.Length)
            throw new ArgumentException($"Partners has {partners.Length} entries but the sequence has {sequence.Length}.", nameof(Partners));
        string? error = PairCheck.FindError(partners, out int position);
        if (error is not null)
            throw new ArgumentException($"Invalid pairing at position {position + 1} (1-based): {error}", nameof(Partners));
        return partners;
    }
}
