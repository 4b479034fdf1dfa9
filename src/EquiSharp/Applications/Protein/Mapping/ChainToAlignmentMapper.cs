using EquiSharp.Applications.Protein.Formats;

namespace EquiSharp.Applications.Protein.Mapping;

/// <summary>
/// Maps a chain's sequence onto alignment columns. Every row's residues (gaps removed) are aligned to the chain
/// by Gotoh's affine-gap dynamic programming with free end gaps on both sequences (the chain may overhang the Pfam
/// domain and the row may cover residues the structure lacks); the row with the best score wins and its traceback
/// gives each chain residue the column of the row residue it is matched with. Scoring is identity-based, enough
/// for a chain that is near-identical to a family member: match +2, mismatch -1 (X matches nothing),
/// a gap of length k costs 4 + (k-1).
/// </summary>
public static class ChainToAlignmentMapper
{
    private const int Match = 2, Mismatch = -1, GapOpen = 4, GapExtend = 1;
    private const int NegativeInfinity = int.MinValue / 4;

    /// <summary>Maps <paramref name="chain"/> (one-letter codes) onto the columns of <paramref name="alignment"/>.</summary>
    public static AlignmentMapping Map(string chain, MultipleAlignment alignment)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (alignment.Count == 0) throw new ArgumentException("The alignment has no rows.", nameof(alignment));
        int best = 0, bestScore = int.MinValue;
        var scores = new int[alignment.Count];
        Parallel.For(0, alignment.Count, r => scores[r] = Align(chain, Residues(alignment.Rows[r]).Letters, traceback: null));
        for (int r = 0; r < scores.Length; r++)
            if (scores[r] > bestScore) (best, bestScore) = (r, scores[r]);

        var (letters, columns) = Residues(alignment.Rows[best]);
        var pairs = new List<(int ChainIndex, int RowIndex)>();
        Align(chain, letters, pairs);
        var columnOf = Enumerable.Repeat(-1, chain.Length).ToArray();
        int identical = 0;
        foreach (var (i, k) in pairs)
        {
            columnOf[i] = columns[k];
            if (Same(chain[i], letters[k])) identical++;
        }
        return new AlignmentMapping(columnOf, best, alignment.Names[best], pairs.Count, identical);
    }

    private static (string Letters, int[] Columns) Residues(string row)
    {
        var columns = new List<int>(row.Length);
        for (int c = 0; c < row.Length; c++) if (row[c] != '-') columns.Add(c);
        return (string.Concat(columns.Select(c => row[c])), columns.ToArray());
    }

    private static bool Same(char a, char b) => a == b && a != 'X';

    /// <summary>
    /// Overlap alignment score of <paramref name="a"/> against <paramref name="b"/>; when <paramref name="traceback"/>
    /// is given, fills it with the matched (index in a, index in b) pairs.
    /// </summary>
    /// <remarks>States: M ends in a match/mismatch, X in a gap in b (a residue of a unaligned), Y in a gap in a.</remarks>
    internal static int Align(string a, string b, List<(int, int)>? traceback)
    {
        int n = a.Length, m = b.Length;
        // Full matrices only when tracing back; the scan over all rows keeps two rows.
        bool full = traceback is not null;
        int rows = full ? n + 1 : 2;
        var M = new int[rows, m + 1];
        var X = new int[rows, m + 1];
        var Y = new int[rows, m + 1];
        for (int j = 0; j <= m; j++) { M[0, j] = 0; X[0, j] = NegativeInfinity; Y[0, j] = NegativeInfinity; }
        int best = 0, bestI = 0, bestJ = 0;
        for (int i = 1; i <= n; i++)
        {
            int cur = full ? i : i & 1, prev = full ? i - 1 : (i - 1) & 1;
            M[cur, 0] = 0; X[cur, 0] = NegativeInfinity; Y[cur, 0] = NegativeInfinity;   // free leading gaps
            for (int j = 1; j <= m; j++)
            {
                int s = Same(a[i - 1], b[j - 1]) ? Match : Mismatch;
                M[cur, j] = Math.Max(M[prev, j - 1], Math.Max(X[prev, j - 1], Y[prev, j - 1])) + s;
                X[cur, j] = Math.Max(M[prev, j] - GapOpen, X[prev, j] - GapExtend);
                Y[cur, j] = Math.Max(M[cur, j - 1] - GapOpen, Y[cur, j - 1] - GapExtend);
            }
            // Free trailing gaps: the alignment may end in the last row or the last column.
            if (M[cur, m] > best) (best, bestI, bestJ) = (M[cur, m], i, m);
            if (i == n)
                for (int j = 1; j <= m; j++)
                    if (M[cur, j] > best) (best, bestI, bestJ) = (M[cur, j], n, j);
        }
        if (traceback is null) return best;

        int state = 0, ti = bestI, tj = bestJ;   // 0 = M, 1 = X, 2 = Y
        while (ti > 0 && tj > 0)
        {
            if (state == 0)
            {
                traceback.Add((ti - 1, tj - 1));
                int from = M[ti - 1, tj - 1], x = X[ti - 1, tj - 1], y = Y[ti - 1, tj - 1];
                state = from >= x && from >= y ? 0 : x >= y ? 1 : 2;
                ti--; tj--;
                if (state == 0 && M[ti, tj] == 0 && (ti == 0 || tj == 0)) break;
            }
            else if (state == 1)
            {
                state = X[ti, tj] == M[ti - 1, tj] - GapOpen ? 0 : 1;
                ti--;
            }
            else
            {
                state = Y[ti, tj] == M[ti, tj - 1] - GapOpen ? 0 : 2;
                tj--;
            }
        }
        traceback.Reverse();
        return best;
    }
}
