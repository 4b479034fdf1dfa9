using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Formats;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Protein;

public class FeatureTests
{
    /// <summary>Random rows over 20 residues and gaps, with columns 1 and 6 covarying (column 6 = partner of column 1).</summary>
    private static MultipleAlignment Coupled(int rows = 300, int width = 10, int seed = 3)
    {
        var rng = new Random(seed);
        string letters = AminoAcids.Standard + "-";
        var list = new List<string>();
        for (int r = 0; r < rows; r++)
        {
            var row = Enumerable.Range(0, width).Select(_ => letters[rng.Next(letters.Length)]).ToArray();
            int a = rng.Next(4);
            row[1] = "DEKR"[a];
            row[6] = "KRDE"[a];   // salt-bridge-like partners
            list.Add(new string(row));
        }
        return new MultipleAlignment("coupled", list.Select((_, i) => $"s{i}").ToList(), list);
    }

    private static void AssertSymmetric(float[] m, int n)
    {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(m[i * n + j], m[j * n + i]);
    }

    private static void AssertSymmetric(double[] m, int n)
    {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(m[i * n + j], m[j * n + i]);
    }

    [Fact]
    public void Sequence_weights_count_neighbours_above_the_identity_threshold()
    {
        // 10 columns: b differs from a at 1 column (90% identical), c at 2 (80%: not above 0.8), d everywhere.
        var aln = AlignmentReader.Parse(">a\nAAAAAAAAAA\n>b\nCAAAAAAAAA\n>c\nCCAAAAAAAA\n>d\nDDDDDDDDDD\n");
        var w = AlignmentStatistics.SequenceWeights(aln.EncodeStates(), 4, 10, 0.8);
        Assert.Equal(new[] { 1 / 2.0, 1 / 3.0, 1 / 2.0, 1.0 }, w);   // a~b, b~a,c, c~b, d alone
    }

    [Fact]
    public void Apc_matches_a_hand_computed_example()
    {
        double[] s = [0, 1, 2, 1, 0, 3, 2, 3, 0];   // row means 1.5, 2, 2.5; overall 2
        var c = AverageProductCorrection.Apply(s, 3);
        Assert.Equal(1 - 1.5 * 2 / 2, c[1], 12);
        Assert.Equal(2 - 1.5 * 2.5 / 2, c[2], 12);
        Assert.Equal(3 - 2 * 2.5 / 2, c[5], 12);
        Assert.Equal(0, c[4]);
        AssertSymmetric(c, 3);
    }

    [Fact]
    public void Mi_and_dca_are_symmetric_and_find_the_planted_coupling()
    {
        var stats = new AlignmentStatistics(Coupled());
        int w = stats.Width;
        foreach (var scores in new[] { MutualInformation.Compute(stats), MutualInformation.Compute(stats, 0.5), MeanFieldDca.Compute(stats, CPU) })
        {
            AssertSymmetric(scores, w);
            int best = Enumerable.Range(0, w * w).MaxBy(k => scores[k]);
            Assert.Equal((1, 6), (Math.Min(best / w, best % w), Math.Max(best / w, best % w)));
        }
    }

    [Fact]
    public void Contact_potential_is_estimated_from_the_training_proteins_only_and_is_symmetric()
    {
        var train = Protein("DKDDDDDDDKAAAA", contact: (1, 9));   // residues 1 and 9 are both K
        var potential = ResiduePairContactPotential.Estimate([train]);
        // Pairs |i−j| ≥ 6 of train: one contact, K(1)–K(9); every other type pair is non-contact.
        Assert.True(potential['K', 'K'] > 0);
        Assert.True(potential['D', 'D'] < 0);
        Assert.Equal(potential['A', 'D'], potential['D', 'A']);
        Assert.Equal(0, potential['W', 'W'], 12);                                // never seen: the overall rate, log-odds 0
        var map = potential.Map("KDWAK");
        AssertSymmetric(map, 5);
        Assert.Equal((float)potential['K', 'K'], map[0 * 5 + 4]);
        Assert.Equal(0f, map[2 * 5 + 2]);
    }

    [Fact]
    public void Features_have_45_channels_zero_alignment_features_when_unmapped_and_round_trip_through_the_file()
    {
        var aln = Coupled(rows: 60, width: 10);
        int s = 1;
        var lines = new List<string>();
        // A chain whose sequence is the first alignment row (gaps removed) with one extra residue in front.
        string seq = "W" + aln.Rows[0].Replace("-", "");
        for (int i = 0; i < seq.Length; i++)
        {
            string name = seq[i] == 'W' ? "TRP" : ThreeLetter(seq[i]);
            lines.AddRange(PdbText.Residue(ref s, name, i + 1, 3.8 * i, (i % 2) * 2.0, 0));
        }
        var chain = PdbReader.Parse(PdbText.Join(lines), "f.pdb");
        var f = ProteinFeatureBuilder.Build("PF00000_TEST_A", chain, aln, CPU);
        int n = f.Length, d = f.OneDNames.Length;
        Assert.Equal(45, d);
        Assert.Equal(n * d, f.OneD.Length);
        foreach (var m in f.TwoD) AssertSymmetric(m, n);
        Assert.Equal(-1, f.ColumnOfResidue[0]);
        Assert.All(Enumerable.Range(21, 23), k => Assert.Equal(0f, f.OneD[0 * d + k]));   // unmapped: no alignment features
        Assert.Equal(1f, f.OneD[0 * d + AminoAcids.IndexOf('W')]);                        // but its one-hot stays
        Assert.All(Enumerable.Range(0, n), j => Assert.Equal(0f, f.Channel("dca_mf")[0 * n + j]));
        Assert.Equal(1.0, Enumerable.Range(21, 21).Sum(k => (double)f.OneD[1 * d + k]), 5); // profile sums to 1

        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "x" + ProteinFeatureFile.Extension);
        ProteinFeatureFile.Write(path, f);
        var back = ProteinFeatureFile.Read(path);
        Assert.Equal(f.Sequence, back.Sequence);
        Assert.Equal(f.ResidueLabels, back.ResidueLabels);
        Assert.Equal(f.ColumnOfResidue, back.ColumnOfResidue);
        Assert.Equal(f.OneD, back.OneD);
        Assert.Equal(f.TwoD[1], back.TwoD[1]);
        Assert.Equal(f.BetaDistances, back.BetaDistances);
        Assert.Equal(f.Contacts(ContactAtom.Alpha), back.Contacts(ContactAtom.Alpha));

        File.WriteAllBytes(path, File.ReadAllBytes(path)[..40]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => ProteinFeatureFile.Read(path)).Message);
        File.WriteAllText(path, "not a feature file at all");
        Assert.Contains("not an EquiSharp protein feature file", Assert.Throws<InvalidDataException>(() => ProteinFeatureFile.Read(path)).Message);
    }

    private static string ThreeLetter(char c) => c switch
    {
        'A' => "ALA", 'C' => "CYS", 'D' => "ASP", 'E' => "GLU", 'F' => "PHE", 'G' => "GLY", 'H' => "HIS", 'I' => "ILE",
        'K' => "LYS", 'L' => "LEU", 'M' => "MET", 'N' => "ASN", 'P' => "PRO", 'Q' => "GLN", 'R' => "ARG", 'S' => "SER",
        'T' => "THR", 'V' => "VAL", 'W' => "TRP", _ => "TYR",
    };

    /// <summary>A fully mapped protein whose only contact is the given pair (distances 5 Å there, 20 Å elsewhere).</summary>
    private static ProteinFeatures Protein(string seq, (int I, int J) contact)
    {
        int n = seq.Length;
        var d = new float[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) d[i * n + j] = i == j ? 0 : 20;
        d[contact.I * n + contact.J] = d[contact.J * n + contact.I] = 5;
        return new ProteinFeatures
        {
            Name = "p", Sequence = seq, BestRow = "r", ResidueLabels = seq.Select((_, i) => $"{i}").ToArray(),
            ColumnOfResidue = Enumerable.Range(0, n).ToArray(), Coverage = 1, Identity = 1, AlignmentRows = 1, AlignmentWidth = n,
            EffectiveSequences = 1, OneDNames = [], OneD = [], TwoDNames = [], TwoD = [], BetaDistances = d, AlphaDistances = d,
        };
    }
}
