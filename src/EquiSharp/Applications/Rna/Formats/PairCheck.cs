namespace EquiSharp.Applications.Rna.Formats;

/// <summary>Shared validation of partner arrays (symmetry, range, self-pairs, double pairing).</summary>
internal static class PairCheck
{
    /// <summary>Returns null if <paramref name="partners"/> is consistent, else a message (1-based numbers) and the 0-based position.</summary>
    public static string? FindError(int[] partners, out int position)
    {
        int n = partners.Length;
        for (int i = 0; i < n; i++)
        {
            position = i;
            int p = partners[i];
            if (p == -1) continue;
            if (p < -1 || p >= n) return $"partner {p + 1} is outside 1..{n}";
            if (p == i) return "position pairs with itself";
            int back = partners[p];
            if (back == i) continue;
            if (back == -1) return $"pairs with {p + 1}, but {p + 1} is unpaired";
            // Two positions claiming the same partner is the usual cause of asymmetry; name both.
            for (int k = 0; k < n; k++)
                if (k != i && partners[k] == p)
                    return $"position {p + 1} is paired twice (with {i + 1} and {k + 1})";
            return $"pairs with {p + 1}, but {p + 1} pairs with {back + 1}";
        }
        position = -1;
        return null;
    }

    /// <summary>Throws <see cref="RnaFormatException"/> located by <paramref name="lineOf"/> if the partners are inconsistent.</summary>
    public static void Validate(int[] partners, ReadContext ctx, string record, Func<int, int> lineOf)
    {
        string? error = FindError(partners, out int pos);
        if (error is not null) throw ctx.Error(lineOf(pos), record, pos + 1, error);
    }
}
