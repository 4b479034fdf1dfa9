using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Applications.Rna.Synthetic;

/// <summary>
/// A built-in RNA-like pairing task (no downloads): sequences whose structure is made of hairpins (complementary
/// stems around loops of ≥ 3), sometimes enclosed by an outer stem (a multi-branch loop), with Watson–Crick and
/// GU pairs. Labels are the symmetric pairing matrix, exactly like real data.
/// </summary>
public static class SyntheticRna
{
    private static readonly (char, char)[] PairChoices = { ('G', 'C'), ('C', 'G'), ('A', 'U'), ('U', 'A'), ('G', 'U'), ('U', 'G') };
    private static readonly double[] PairWeights = { 0.3, 0.3, 0.15, 0.15, 0.05, 0.05 };

    /// <summary>Generates <paramref name="count"/> structures with lengths in [minLength, maxLength].</summary>
    public static List<RnaStructure> Generate(int count, int minLength, int maxLength, int seed)
    {
        if (minLength < 12 || maxLength < minLength) throw new ArgumentException($"Expected 12 ≤ minLength ≤ maxLength, got {minLength}..{maxLength}.");
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(k => One(rng, rng.Next(minLength, maxLength + 1), $"synthetic-{seed}-{k}")).ToList();
    }

    private static RnaStructure One(Random rng, int length, string name)
    {
        var partners = Enumerable.Repeat(-1, length).ToArray();
        Fill(rng, partners, rng.Next(0, 4), length, depth: 0);
        var seq = new char[length];
        for (int i = 0; i < length; i++)
        {
            if (partners[i] > i)
            {
                var (a, b) = PairChoices[Pick(rng, PairWeights)];
                seq[i] = a; seq[partners[i]] = b;
            }
            else if (partners[i] < 0) seq[i] = "ACGU"[rng.Next(4)];
        }
        return new RnaStructure(name, new string(seq), partners);
    }

    /// <summary>Places hairpins (and, at depth 0, sometimes an enclosing stem) left to right in [start, end).</summary>
    private static void Fill(Random rng, int[] partners, int start, int end, int depth)
    {
        int pos = start;
        while (pos < end)
        {
            int stem = rng.Next(3, 7);
            if (depth == 0 && rng.NextDouble() < 0.3 && end - pos >= 2 * stem + 24)
            {
                int span = rng.Next(2 * stem + 22, Math.Min(end - pos, 2 * stem + 40) + 1);
                for (int k = 0; k < stem; k++) Pair(partners, pos + k, pos + span - 1 - k);
                Fill(rng, partners, pos + stem + rng.Next(0, 3), pos + span - stem, depth + 1);
                pos += span + rng.Next(1, 6);
                continue;
            }
            int loop = rng.Next(3, 8), need = 2 * stem + loop;
            if (pos + need > end) break;
            for (int k = 0; k < stem; k++) Pair(partners, pos + k, pos + need - 1 - k);
            pos += need + rng.Next(1, 6);
        }
    }

    private static void Pair(int[] partners, int i, int j) { partners[i] = j; partners[j] = i; }

    private static int Pick(Random rng, double[] weights)
    {
        double u = rng.NextDouble() * weights.Sum();
        for (int k = 0; k < weights.Length; k++) { u -= weights[k]; if (u <= 0) return k; }
        return weights.Length - 1;
    }
}
