namespace EquiSharp.Applications.Protein.Formats;

/// <summary>
/// A multiple sequence alignment reduced to its match columns: every row has <see cref="Width"/> characters,
/// upper-case letters or '-' (gap). Insert states (lower case, '.') of A2M/A3M/Stockholm input have been removed.
/// </summary>
/// <param name="Source">File (or source) name.</param>
/// <param name="Names">Row names (the header up to the first whitespace).</param>
/// <param name="Rows">Aligned rows, all of the same width.</param>
public sealed record MultipleAlignment(string Source, IReadOnlyList<string> Names, IReadOnlyList<string> Rows)
{
    /// <summary>Number of columns.</summary>
    public int Width => Rows.Count == 0 ? 0 : Rows[0].Length;

    /// <summary>Number of sequences.</summary>
    public int Count => Rows.Count;

    /// <summary>The 21 alignment states: the 20 standard residues (0–19) and the gap (20).</summary>
    public const int States = 21;

    /// <summary>State of the gap and of any non-standard letter (X, B, Z, …), which carry no residue identity.</summary>
    public const int GapState = 20;

    /// <summary>Rows as states, row-major N × Width: residue index 0–19, or <see cref="GapState"/>.</summary>
    public byte[] EncodeStates()
    {
        int n = Count, w = Width;
        var states = new byte[n * w];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < w; c++)
            {
                char ch = Rows[r][c];
                states[r * w + c] = (byte)(ch == '-' ? GapState : Math.Min(AminoAcids.IndexOf(ch), GapState));
            }
        return states;
    }
}
