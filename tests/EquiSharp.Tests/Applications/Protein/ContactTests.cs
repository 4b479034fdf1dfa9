using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Formats;

namespace EquiSharp.Tests.Applications.Protein;

public class ContactTests
{
    /// <summary>Three residues: ALA at x=0 (Cβ +1.5 z), GLY at x=6 (no Cβ), ALA at x=9.</summary>
    private static PdbChain Chain()
    {
        int s = 1;
        var lines = new List<string>();
        lines.AddRange(PdbText.Residue(ref s, "ALA", 1, 0, 0, 0));
        lines.AddRange(PdbText.Residue(ref s, "GLY", 2, 6, 0, 0));
        lines.AddRange(PdbText.Residue(ref s, "ALA", 3, 9, 0, 0));
        return PdbReader.Parse(PdbText.Join(lines), "c.pdb");
    }

    [Fact]
    public void Beta_distances_use_alpha_for_glycine_and_alpha_distances_alpha_only()
    {
        var chain = Chain();
        var beta = ContactMaps.Distances(chain, ContactAtom.Beta);
        var alpha = ContactMaps.Distances(chain, ContactAtom.Alpha);
        Assert.Equal(Math.Sqrt(36 + 2.25), beta[0 * 3 + 1], 5);   // Cβ(ALA1) to Cα(GLY2)
        Assert.Equal(9.0, beta[0 * 3 + 2], 5);                     // both Cβ at z = 1.5
        Assert.Equal(9.0, alpha[0 * 3 + 2], 5);
        Assert.Equal(beta[1 * 3 + 0], beta[0 * 3 + 1]);
        var contacts = ContactMaps.FromDistances(beta, 3);
        Assert.Equal(new float[] { 0, 1, 0, 1, 0, 1, 0, 1, 0 }, contacts);
    }

    [Fact]
    public void A_residue_without_atoms_is_unknown_and_the_others_stay_known()
    {
        float n = float.NaN;
        float[] d = [0, 5, n, 5, 0, n, n, n, 0];
        Assert.Equal(new[] { true, true, false }, ContactMaps.HasCoordinates(d, 3));
        Assert.Equal(new float[] { 0, 1, 0, 1, 0, 0, 0, 0, 0 }, ContactMaps.FromDistances(d, 3));
    }

    [Fact]
    public void Atom_option_parses_cb_and_ca_only()
    {
        Assert.Equal(ContactAtom.Alpha, ContactMaps.ParseAtom("CA"));
        Assert.Equal(ContactAtom.Beta, ContactMaps.ParseAtom("cb"));
        Assert.Throws<ArgumentException>(() => ContactMaps.ParseAtom("n"));
    }

    [Fact]
    public void Rr_file_lists_pairs_best_first_with_one_based_positions()
    {
        // 3 residues; (0,2) scores 0.9 one way and 0.7 the other: mean 0.8.
        float[] p = [0, 0.2f, 0.9f, 0.2f, 0, 0, 0.7f, 0, 0];
        var w = new StringWriter();
        ContactWriters.WriteRr(w, "T1", "ACD", p);
        Assert.Equal("PFRMAT RR\nTARGET T1\nMODEL 1\nACD\n1 3 0 8 0.800\n1 2 0 8 0.200\nEND\n", w.ToString());
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "t.rr");
        ContactWriters.WriteRr(file, "T1", "ACD", p, minSeparation: 2);   // (0,1) is too near
        Assert.Equal("PFRMAT RR\nTARGET T1\nMODEL 1\nACD\n1 3 0 8 0.800\nEND\n", File.ReadAllText(file));
    }

    [Fact]
    public void Map_figures_are_written()
    {
        using var dir = new TempDir();
        string png = Path.Combine(dir.Path, "m.png");
        ContactWriters.PredictedVersusTruePng(png, [0, 0.5f, 0.5f, 0], [0, 1, 1, 0], 2, "t");
        Assert.True(new FileInfo(png).Length > 1000);
    }
}
