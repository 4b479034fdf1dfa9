using EquiSharp.Applications.Protein.Formats;
using EquiSharp.IO;

namespace EquiSharp.Tests.Applications.Protein;

public class PdbReaderTests
{
    private static string Sample()
    {
        int s = 1;
        var lines = new List<string>();
        lines.AddRange(PdbText.Residue(ref s, "MET", -2, 0, 0, 0));
        lines.Add(PdbText.Atom(s++, "H", "MET", -2, 9, 9, 9, element: "H"));              // hydrogen: dropped
        lines.Add(PdbText.Atom(s++, "HB2", "MET", -2, 9, 9, 9, element: ""));              // hydrogen by name
        lines.Add("HETATM 9999  O   HOH A 500       1.000   1.000   1.000  1.00 20.00           O");
        lines.AddRange(PdbText.Residue(ref s, "GLY", -1, 3.8, 0, 0));                       // no Cβ
        lines.Add(PdbText.Atom(s++, "N", "SER", 1, 6.6, 0, 0));                             // gap in numbering (0 missing)
        lines.Add(PdbText.Atom(s++, "CA", "SER", 1, 7.6, 0, 0, altLoc: 'A'));
        lines.Add(PdbText.Atom(s++, "CA", "SER", 1, 70, 0, 0, altLoc: 'B'));                // second altloc: ignored
        lines.Add(PdbText.Atom(s++, "C", "SER", 1, 8.6, 0, 0));
        lines.Add(PdbText.Atom(s++, "O", "SER", 1, 8.6, 1, 0));
        lines.Add(PdbText.Atom(s++, "CB", "SER", 1, 7.6, 0, 1.5, altLoc: 'B'));             // only altloc B for CB: A was kept first
        lines.AddRange(PdbText.Residue(ref s, "ALA", 1, 11.4, 0, 0, insertion: 'A'));       // insertion code: distinct residue
        lines.AddRange(PdbText.Residue(ref s, "MSE", 2, 15.2, 0, 0));                       // non-standard: X
        lines.Add(PdbText.Atom(s++, "CA", "LYS", 3, 19, 0, 0, chain: 'B'));                 // other chain
        return PdbText.Join(lines);
    }

    [Fact]
    public void Reads_residues_with_their_own_numbering_and_the_rules_of_the_format()
    {
        var chain = PdbReader.Parse(Sample(), "sample.pdb");
        Assert.Equal('A', chain.ChainId);
        Assert.Equal("MGSAX", chain.Sequence);
        Assert.Equal(["-2", "-1", "1", "1A", "2"], chain.Residues.Select(r => r.Label));
        Assert.DoesNotContain(chain.Residues[0].Atoms.Keys, k => k.StartsWith('H'));
        Assert.Equal(7.6, chain.Residues[2].Alpha!.Value.X, 6);          // first alternate location kept
        Assert.Equal(chain.Residues[1].Alpha, chain.Residues[1].Beta);   // glycine: Cβ falls back to Cα
        // SER 1 lacks CB (its only CB is in the location not kept), GLY lacks none, the other chain is reported.
        Assert.Contains(chain.Warnings, w => w.Contains("SER 1 lacks CB"));
        Assert.DoesNotContain(chain.Warnings, w => w.Contains("GLY"));
        Assert.Contains(chain.Warnings, w => w.Contains("chain(s) 'B'"));
    }

    [Fact]
    public void Reads_gzip_and_a_chosen_chain()
    {
        using var dir = new TempDir();
        string path = dir.WriteGzip("x.pdb.gz", Sample());
        Assert.Equal("MGSAX", PdbReader.Read(path).Sequence);
        Assert.Equal("K", PdbReader.Read(path, 'B').Sequence);
        var e = Assert.Throws<InputFormatException>(() => PdbReader.Read(path, 'C'));
        Assert.Contains("no ATOM records for chain 'C'", e.Message);
    }

    [Theory]
    [InlineData("ATOM      1  CA  ALA A   1      1.000   2.000", 2, "columns 31-54")]
    [InlineData("ATOM      1  CA  ALA A   1      1.000   abcde   3.000  1.00 20.00           C", 2, "'abcde' is not a number: coordinate y")]
    [InlineData("ATOM      1  CA  ALA A   x      1.000   2.000   3.000  1.00 20.00           C", 2, "'x' is not an integer residue number")]
    public void Malformed_records_name_file_line_and_problem(string bad, int line, string problem)
    {
        string text = PdbText.Atom(1, "CA", "GLY", 0, 0, 0, 0) + "\n" + bad + "\n";
        var e = Assert.Throws<InputFormatException>(() => PdbReader.Parse(text, "bad.pdb"));
        Assert.Equal("bad.pdb", e.FileName);
        Assert.Equal(line, e.LineNumber);
        Assert.Contains(problem, e.Message);
        Assert.StartsWith($"bad.pdb, line {line}: ", e.Message);
    }

    [Fact]
    public void A_file_without_atoms_is_an_error_and_a_residue_met_twice_too()
    {
        Assert.Contains("no ATOM records", Assert.Throws<InputFormatException>(() => PdbReader.Parse("HEADER x\nEND\n", "e.pdb")).Message);
        string twice = PdbText.Join([PdbText.Atom(1, "CA", "GLY", 1, 0, 0, 0), PdbText.Atom(2, "CA", "GLY", 2, 0, 0, 0), PdbText.Atom(3, "CB", "GLY", 1, 0, 0, 0)]);
        var e = Assert.Throws<InputFormatException>(() => PdbReader.Parse(twice, "t.pdb"));
        Assert.Equal(3, e.LineNumber);
    }
}
