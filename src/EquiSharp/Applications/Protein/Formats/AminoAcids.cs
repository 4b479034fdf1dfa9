namespace EquiSharp.Applications.Protein.Formats;

/// <summary>
/// The 20 standard amino acids, their one- and three-letter codes, and the 21-letter residue alphabet
/// (20 + X for anything else) used by one-hot features and contact potentials.
/// </summary>
public static class AminoAcids
{
    /// <summary>The 20 standard residues in alphabetical order of their one-letter codes.</summary>
    public const string Standard = "ACDEFGHIKLMNPQRSTVWY";

    /// <summary>Residue alphabet of 21 letters: <see cref="Standard"/> then X (unknown or non-standard).</summary>
    public const string WithUnknown = Standard + "X";

    /// <summary>Index of X in <see cref="WithUnknown"/>.</summary>
    public const int Unknown = 20;

    private static readonly Dictionary<string, char> OneLetterOf = new(StringComparer.Ordinal)
    {
        ["ALA"] = 'A', ["CYS"] = 'C', ["ASP"] = 'D', ["GLU"] = 'E', ["PHE"] = 'F', ["GLY"] = 'G', ["HIS"] = 'H',
        ["ILE"] = 'I', ["LYS"] = 'K', ["LEU"] = 'L', ["MET"] = 'M', ["ASN"] = 'N', ["PRO"] = 'P', ["GLN"] = 'Q',
        ["ARG"] = 'R', ["SER"] = 'S', ["THR"] = 'T', ["VAL"] = 'V', ["TRP"] = 'W', ["TYR"] = 'Y',
    };

    /// <summary>One-letter code of a three-letter residue name (case-insensitive); X for anything non-standard.</summary>
    public static char FromThreeLetter(string name) =>
        OneLetterOf.TryGetValue(name.Trim().ToUpperInvariant(), out char c) ? c : 'X';

    /// <summary>Index 0–19 of a standard one-letter code (either case), else <see cref="Unknown"/>.</summary>
    public static int IndexOf(char letter)
    {
        int i = Standard.IndexOf(char.ToUpperInvariant(letter));
        return i < 0 ? Unknown : i;
    }
}
