using System.Globalization;
using EquiSharp.IO;

namespace EquiSharp.Applications.Protein.Formats;

/// <summary>
/// Reads one chain from the fixed-column ATOM records of a PDB file (plain or gzip). Rules: HETATM and other records
/// are ignored; only the first model is read (up to ENDMDL); hydrogens (element H or D, or an atom name starting with
/// H when the element column is empty) are dropped; of alternate locations the first one met in a residue is kept;
/// residues are keyed by number and insertion code, so 52 and 52A are distinct; the file's numbering is kept with its
/// gaps. Residues lacking N, CA, C, O or (except glycine) CB are reported in the warnings, not rejected.
/// </summary>
public static class PdbReader
{
    private static readonly string[] Backbone = ["N", "CA", "C", "O"];

    /// <summary>Reads <paramref name="chainId"/>, or the first chain in the file when null.</summary>
    /// <exception cref="InputFormatException">A malformed ATOM record, or no ATOM record for the chain.</exception>
    public static PdbChain Read(string path, char? chainId = null) => Parse(LineSource.FromFile(path), path, chainId);

    /// <summary>Reads PDB text already in memory; <paramref name="sourceName"/> is used in messages.</summary>
    public static PdbChain Parse(string text, string sourceName = "<text>", char? chainId = null) =>
        Parse(LineSource.FromText(text), sourceName, chainId);

    private static PdbChain Parse(LineSource lines, string source, char? chainId)
    {
        var residues = new List<ResidueBuilder>();
        var otherChains = new SortedSet<char>();
        char? chain = chainId;
        while (!lines.AtEnd)
        {
            string line = lines.Read();
            if (line.StartsWith("ENDMDL", StringComparison.Ordinal)) break;
            if (!line.StartsWith("ATOM  ", StringComparison.Ordinal)) continue;
            int at = lines.LineNumber;
            if (line.Length < 54)
                throw new InputFormatException(source, at, $"ATOM record has {line.Length} characters; the coordinates need columns 31-54");
            char lineChain = line[21];
            chain ??= lineChain;
            if (lineChain != chain) { otherChains.Add(lineChain); continue; }
            string atomName = line.Substring(12, 4).Trim();
            if (atomName.Length == 0) throw new InputFormatException(source, at, "ATOM record has no atom name (columns 13-16)");
            if (IsHydrogen(line, atomName)) continue;
            int number = ParseInt(line.AsSpan(22, 4), source, at, "residue number (columns 23-26)");
            char insertion = line[26];
            var point = new Point3(
                ParseCoordinate(line.AsSpan(30, 8), source, at, "x (columns 31-38)"),
                ParseCoordinate(line.AsSpan(38, 8), source, at, "y (columns 39-46)"),
                ParseCoordinate(line.AsSpan(46, 8), source, at, "z (columns 47-54)"));
            if (residues.Count == 0 || residues[^1].Number != number || residues[^1].Insertion != insertion)
            {
                if (residues.Any(r => r.Number == number && r.Insertion == insertion))
                    throw new InputFormatException(source, at, $"residue {number}{insertion} appears again after other residues");
                residues.Add(new ResidueBuilder(number, insertion, line.Substring(17, 3).Trim(), at));
            }
            residues[^1].Add(atomName, line[16], point);
        }
        if (residues.Count == 0)
            throw new InputFormatException(source, null, chainId is null ? "no ATOM records" : $"no ATOM records for chain '{chainId}'");

        var warnings = new List<string>();
        if (otherChains.Count > 0)
            warnings.Add($"{source}: read chain '{chain}' only; ignored chain(s) {string.Join(", ", otherChains.Select(c => $"'{c}'"))}");
        var built = residues.Select(r => r.Build()).ToList();
        foreach (var r in built)
        {
            var missing = Backbone.Where(a => !r.Atoms.ContainsKey(a)).ToList();
            if (r.OneLetter != 'G' && !r.Atoms.ContainsKey("CB")) missing.Add("CB");
            if (missing.Count > 0)
                warnings.Add($"{source}, line {r.FirstLine}: residue {r.Name} {r.Label} lacks {string.Join(", ", missing)}");
        }
        return new PdbChain(source, chain!.Value, built, warnings);
    }

    /// <summary>Element column (77-78) when present, else the atom name's first letter after any digits.</summary>
    private static bool IsHydrogen(string line, string atomName)
    {
        string element = line.Length >= 78 ? line.Substring(76, 2).Trim() : "";
        if (element.Length > 0) return element is "H" or "D";
        char first = atomName.TrimStart('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')[0];
        return first is 'H' or 'D';
    }

    private static int ParseInt(ReadOnlySpan<char> field, string source, int line, string what) =>
        int.TryParse(field.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)
            ? v : throw new InputFormatException(source, line, $"'{field.Trim()}' is not an integer {what}");

    private static double ParseCoordinate(ReadOnlySpan<char> field, string source, int line, string what) =>
        double.TryParse(field.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v : throw new InputFormatException(source, line, $"'{field.Trim()}' is not a number: coordinate {what}");

    /// <summary>Atoms of one residue while reading; remembers which alternate location it keeps.</summary>
    private sealed class ResidueBuilder(int number, char insertion, string name, int firstLine)
    {
        private readonly Dictionary<string, Point3> atoms = new(StringComparer.Ordinal);
        private char keptAltLoc = ' ';
        public int Number { get; } = number;
        public char Insertion { get; } = insertion;

        public void Add(string atomName, char altLoc, Point3 point)
        {
            if (altLoc != ' ')
            {
                if (keptAltLoc == ' ') keptAltLoc = altLoc;
                else if (altLoc != keptAltLoc) return;   // a later alternate location: keep the first
            }
            atoms.TryAdd(atomName, point);
        }

        public PdbResidue Build() => new(Number, Insertion, name, AminoAcids.FromThreeLetter(name), atoms, firstLine);
    }
}
