namespace EquiSharp.Applications.Protein.Mapping;

/// <summary>
/// Where each residue of a chain sits in an alignment: <see cref="ColumnOfResidue"/>[i] is the match column of
/// residue i (0-based), or -1 when the residue has no column (its alignment features are zero and it is masked).
/// </summary>
/// <param name="ColumnOfResidue">Column per chain residue, -1 = unmapped.</param>
/// <param name="RowIndex">Index of the best-matching alignment row.</param>
/// <param name="RowName">Name of that row.</param>
/// <param name="Mapped">Residues with a column.</param>
/// <param name="Identical">Mapped residues whose letter equals the row's letter in that column.</param>
public sealed record AlignmentMapping(int[] ColumnOfResidue, int RowIndex, string RowName, int Mapped, int Identical)
{
    /// <summary>Fraction of chain residues that have a column.</summary>
    public double Coverage => ColumnOfResidue.Length == 0 ? 0 : (double)Mapped / ColumnOfResidue.Length;

    /// <summary>Fraction of mapped residues identical to the best row.</summary>
    public double Identity => Mapped == 0 ? 0 : (double)Identical / Mapped;

    /// <summary>True where the residue has a column.</summary>
    public bool[] Mask => ColumnOfResidue.Select(c => c >= 0).ToArray();
}
