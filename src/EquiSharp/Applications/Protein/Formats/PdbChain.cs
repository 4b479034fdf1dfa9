namespace EquiSharp.Applications.Protein.Formats;

/// <summary>A point in Å.</summary>
public readonly record struct Point3(double X, double Y, double Z)
{
    /// <summary>Euclidean distance in Å.</summary>
    public double DistanceTo(Point3 other)
    {
        double dx = X - other.X, dy = Y - other.Y, dz = Z - other.Z;
        return Math.Sqrt(dx * dx + dy * dy + dz * dz);
    }
}

/// <summary>
/// One residue of a chain, in file order. <see cref="Number"/> and <see cref="InsertionCode"/> are the file's own
/// numbering (kept with its gaps); sequence separation is counted by the residue's index in the chain, never by number.
/// </summary>
/// <param name="Number">Residue sequence number (columns 23–26).</param>
/// <param name="InsertionCode">Insertion code (column 27), ' ' when absent.</param>
/// <param name="Name">Three-letter residue name.</param>
/// <param name="OneLetter">One-letter code (X for non-standard).</param>
/// <param name="Atoms">Heavy atoms by name (hydrogens dropped, first alternate location kept).</param>
/// <param name="FirstLine">1-based line of the residue's first ATOM record (for messages).</param>
public sealed record PdbResidue(int Number, char InsertionCode, string Name, char OneLetter, IReadOnlyDictionary<string, Point3> Atoms, int FirstLine)
{
    /// <summary>The residue's label in the file: number plus insertion code, e.g. "52" or "52A".</summary>
    public string Label => InsertionCode == ' ' ? Number.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Number}{InsertionCode}";

    /// <summary>Cα, or null when absent.</summary>
    public Point3? Alpha => Atoms.TryGetValue("CA", out var p) ? p : null;

    /// <summary>Cβ; Cα for glycine (which has none) or when Cβ is missing; null when neither exists.</summary>
    public Point3? Beta => Atoms.TryGetValue("CB", out var p) ? p : Alpha;
}

/// <summary>One protein chain read from PDB ATOM records.</summary>
/// <param name="Source">File (or source) name.</param>
/// <param name="ChainId">Chain identifier (column 22).</param>
/// <param name="Residues">Residues in file order.</param>
/// <param name="Warnings">Non-fatal problems: residues with missing backbone or Cβ atoms, other chains ignored.</param>
public sealed record PdbChain(string Source, char ChainId, IReadOnlyList<PdbResidue> Residues, IReadOnlyList<string> Warnings)
{
    /// <summary>The chain's sequence in one-letter codes (X for non-standard residues).</summary>
    public string Sequence => string.Concat(Residues.Select(r => r.OneLetter));

    /// <summary>Number of residues.</summary>
    public int Length => Residues.Count;
}
