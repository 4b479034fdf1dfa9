using EquiSharp.Applications.Protein.Features;
using EquiSharp.Cli.Commands;
using EquiSharp.Tests.Applications.Protein;

namespace EquiSharp.Tests.Cli;

[Collection("rna-serial")] // redirects Console
public class ProteinCommandTests
{
    /// <summary>A 20-residue helix-like chain and a 40-row alignment of its family (random point mutations).</summary>
    internal static void WriteProtein(TempDir dir, string pfam)
    {
        const string seq = "ACDEFGHIKLMNPQRSTVWY";
        string[] three = ["ALA", "CYS", "ASP", "GLU", "PHE", "GLY", "HIS", "ILE", "LYS", "LEU", "MET", "ASN", "PRO", "GLN", "ARG", "SER", "THR", "VAL", "TRP", "TYR"];
        int s = 1;
        var lines = new List<string>();
        for (int i = 0; i < seq.Length; i++)
            lines.AddRange(PdbText.Residue(ref s, three[i], 10 + i, 2.3 * Math.Cos(i * 1.75), 2.3 * Math.Sin(i * 1.75), 1.5 * i));
        Directory.CreateDirectory(Path.Combine(dir.Path, "pdb"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "aln"));
        dir.WriteGzip($"pdb/{pfam}_1ABC_A.pdb.gz", PdbText.Join(lines));
        var rng = new Random(7);
        var rows = Enumerable.Range(0, 40).Select(r => new string(seq.Select(c => rng.Next(4) == 0 ? seq[rng.Next(20)] : c).ToArray()));
        dir.Write($"aln/{pfam}.align.80", string.Concat(rows.Select((r, k) => $">s{k}/1-20\n{r}\n")));
    }

    [Fact]
    public void Features_pairs_files_by_pfam_id_and_the_baseline_reads_them()
    {
        using var dir = new TempDir();
        WriteProtein(dir, "PF00001");
        WriteProtein(dir, "PF00002");
        string output = Path.Combine(dir.Path, "features");
        var (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "features",
            "--pdb", Path.Combine(dir.Path, "pdb"), "--aln", Path.Combine(dir.Path, "aln"), "--out", output);
        Assert.True(code == 0, err);
        Assert.Contains("PF00001_1ABC_A L=20 mapped=20 coverage=1.0000", stdout);
        Assert.Equal(["PF00001_1ABC_A.features", "PF00002_1ABC_A.features"], ProteinFeatureFile.List(output).Select(Path.GetFileName));

        (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "baseline", "--features", output, "--score", "mi");
        Assert.True(code == 0, err);
        Assert.Contains("PF00002_1ABC_A\t20\t", stdout);
        // 20 residues have no pair at |i−j| ≥ 24: long-range precision is undefined (NaN), not 0.
        Assert.EndsWith("mean top_l5_long=NaN top_l2_long=NaN top_l_long=NaN n=2", stdout.TrimEnd());
    }

    [Fact]
    public void A_structure_without_its_alignment_is_a_user_error()
    {
        using var dir = new TempDir();
        WriteProtein(dir, "PF00001");
        File.Delete(Path.Combine(dir.Path, "aln", "PF00001.align.80"));
        var (code, _, err) = InProcessCli.Run(new ProteinCommand(), "protein", "features",
            "--pdb", Path.Combine(dir.Path, "pdb"), "--aln", Path.Combine(dir.Path, "aln"), "--out", Path.Combine(dir.Path, "o"));
        Assert.Equal(1, code);
        Assert.Contains("error: ", err);
        Assert.Contains("no alignment for PF00001", err);
    }

    [Fact]
    public void Contacts_writes_an_rr_list_and_a_png()
    {
        using var dir = new TempDir();
        WriteProtein(dir, "PF00001");
        string output = Path.Combine(dir.Path, "maps");
        var (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "contacts",
            "--pdb", Path.Combine(dir.Path, "pdb", "PF00001_1ABC_A.pdb.gz"), "--out", output, "--atom", "ca");
        Assert.True(code == 0, err);
        Assert.Contains("PF00001_1ABC_A L=20 contacts=", stdout);
        var rr = File.ReadAllLines(Path.Combine(output, "PF00001_1ABC_A.rr"));
        Assert.Equal(["PFRMAT RR", "TARGET PF00001_1ABC_A", "MODEL 1", "ACDEFGHIKLMNPQRSTVWY"], rr[..4]);
        Assert.Equal("END", rr[^1]);
        Assert.Contains("1 2 0 8 1.000", rr);   // neighbours along a helix are closer than 8 Å
        Assert.True(new FileInfo(Path.Combine(output, "PF00001_1ABC_A.png")).Length > 1000);
    }
}
