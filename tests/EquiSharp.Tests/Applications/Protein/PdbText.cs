using System.Globalization;
using System.Text;

namespace EquiSharp.Tests.Applications.Protein;

/// <summary>Builds fixed-column PDB ATOM lines for tests.</summary>
internal static class PdbText
{
    public static string Atom(int serial, string atom, string residue, int number, double x, double y, double z,
        char altLoc = ' ', char insertion = ' ', char chain = 'A', string element = "")
    {
        string name = atom.Length < 4 ? " " + atom.PadRight(3) : atom;
        if (element.Length == 0) element = atom[..1];
        return string.Create(CultureInfo.InvariantCulture,
            $"ATOM  {serial,5} {name}{altLoc}{residue,3} {chain}{number,4}{insertion}   {x,8:0.000}{y,8:0.000}{z,8:0.000}  1.00 20.00          {element,2}");
    }

    /// <summary>A residue with N, CA, C, O and (unless glycine) CB placed around the given Cα.</summary>
    public static IEnumerable<string> Residue(ref int serial, string residue, int number, double x, double y, double z, char insertion = ' ')
    {
        var lines = new List<string>
        {
            Atom(serial++, "N", residue, number, x - 1, y, z, insertion: insertion),
            Atom(serial++, "CA", residue, number, x, y, z, insertion: insertion),
            Atom(serial++, "C", residue, number, x + 1, y, z, insertion: insertion),
            Atom(serial++, "O", residue, number, x + 1, y + 1, z, insertion: insertion),
        };
        if (residue != "GLY") lines.Add(Atom(serial++, "CB", residue, number, x, y, z + 1.5, insertion: insertion));
        return lines;
    }

    public static string Join(IEnumerable<string> lines) => string.Join("\n", lines) + "\n";
}
