using EquiSharp.Applications.Rna.Data;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.IO;

namespace EquiSharp.Tests.Applications.Rna;

/// <summary>The identity-cluster split of issue 18's shipped model: cd-hit's cluster file, whole-cluster assignment, end to end.</summary>
public sealed class ClusterSplitTests
{
    [Fact]
    public void ClusterFileMembersGetTheirClusterAndUnlistedSequencesGetTheirOwn()
    {
        using var dir = new TempDir();
        string path = dir.Write("x.clstr", ">Cluster 0\n0\t120nt, >s2... *\n1\t118nt, >s0... at +/91.53%\n>Cluster 1\n0\t40nt, >s1... *\n");
        Assert.Equal(new[] { 0, 1, 0, 2, 3 }, IdentityClusters.ParseClusters(path, 5));
        string bad = dir.Write("bad.clstr", ">Cluster 0\n0\t120nt, >s2... *\nsomething else\n");
        var e = Assert.Throws<InputFormatException>(() => IdentityClusters.ParseClusters(bad, 5));
        Assert.Contains("bad.clstr", e.Message);
        Assert.Equal(3, e.LineNumber);
        string outOfRange = dir.Write("range.clstr", ">Cluster 0\n0\t120nt, >s9... *\n");
        Assert.Equal(2, Assert.Throws<InputFormatException>(() => IdentityClusters.ParseClusters(outOfRange, 5)).LineNumber);
    }

    [Fact]
    public void WholeClustersGoToOneSplitBySeededDrawNearTheFractions()
    {
        var rng = new Random(1);
        int[] cluster = Enumerable.Range(0, 20000).Select(_ => rng.Next(4000)).ToArray();
        var split = IdentityClusters.AssignSplits(cluster, new[] { 0.9, 0.05, 0.05 }, seed: 7);
        foreach (var g in cluster.Select((c, i) => (c, s: split[i])).GroupBy(x => x.c))
            Assert.Single(g.Select(x => x.s).Distinct());
        var perCluster = cluster.Select((c, i) => (c, s: split[i])).Distinct().GroupBy(x => x.s).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange(perCluster[0] / 4000.0, 0.88, 0.92);   // 4000 draws: sd of the fraction ≈ 0.005
        Assert.InRange(perCluster[1] / 4000.0, 0.035, 0.065);
        Assert.InRange(perCluster[2] / 4000.0, 0.035, 0.065);
        Assert.Equal(split, IdentityClusters.AssignSplits(cluster, new[] { 0.9, 0.05, 0.05 }, seed: 7));
        Assert.NotEqual(split, IdentityClusters.AssignSplits(cluster, new[] { 0.9, 0.05, 0.05 }, seed: 8));
        Assert.Throws<ArgumentException>(() => IdentityClusters.AssignSplits(cluster, new[] { 0.9, 0.2 }, 1));
    }

    [Fact]
    public void WordSizesFollowCdHitsTable()
    {
        Assert.True(IdentityClusters.WordSizeFits(0.8, 5));
        Assert.False(IdentityClusters.WordSizeFits(0.8, 6));
        Assert.False(IdentityClusters.WordSizeFits(0.7, 4));
        Assert.True(IdentityClusters.WordSizeFits(0.95, 10));
    }

    private static string RandomRna(Random rng, int n) => new(Enumerable.Range(0, n).Select(_ => "ACGU"[rng.Next(4)]).ToArray());

    private static string Mutate(Random rng, string s, int changes)
    {
        var c = s.ToCharArray();
        for (int k = 0; k < changes; k++) { int i = rng.Next(c.Length); c[i] = "ACGU"[("ACGU".IndexOf(c[i]) + 1 + rng.Next(3)) % 4]; }
        return new string(c);
    }

    [CdHitFact]
    public void HomologuesShareAClusterAndTheirSplitAndTheFilesHoldEveryRecord()
    {
        using var dir = new TempDir();
        var rng = new Random(3);
        var records = new List<RnaStructure>();
        for (int family = 0; family < 12; family++)
        {
            string root = RandomRna(rng, 80);
            for (int member = 0; member < 3; member++)   // 3 members ≥ 95% identical to their family's root
                records.Add(new RnaStructure($"f{family}m{member}", Mutate(rng, root, 3), Enumerable.Repeat(-1, 80).ToArray()));
        }
        string a = Path.Combine(dir.Path, "a.dbn"), b = Path.Combine(dir.Path, "b.dbn");
        RnaFile.Write(a, records.Take(20), RnaFileFormat.DotBracketFasta);
        RnaFile.Write(b, records.Skip(20), RnaFileFormat.DotBracketFasta);
        string outDir = Path.Combine(dir.Path, "split");
        var summary = ClusterSplit.Build(new[] { a, b }, outDir, new IdentityClusters.CdHitOptions(), new[] { 0.6, 0.2, 0.2 }, seed: 2);
        Assert.Equal(36, summary.Records);
        Assert.Equal(12, summary.Clusters);              // random roots are far below 80% identity to each other
        var rows = File.ReadAllLines(Path.Combine(outDir, ClusterSplit.ClustersFile)).Skip(1).Select(l => l.Split('\t')).ToList();
        foreach (var family in rows.GroupBy(r => r[3][..r[3].IndexOf('m')]))
        {
            Assert.Single(family.Select(r => r[1]).Distinct());
            Assert.Single(family.Select(r => r[0]).Distinct());
        }
        var files = ClusterSplit.SplitNames.SelectMany(n => RnaFile.Read(Path.Combine(outDir, n + ".dbn")).Records).Select(r => r.Name).OrderBy(n => n).ToList();
        Assert.Equal(records.Select(r => r.Name).OrderBy(n => n), files);
        Assert.Equal(summary.RecordsPerSplit["test"], RnaFile.Read(Path.Combine(outDir, "test.dbn")).Records.Count);
        // the dev split file selects exactly dev.dbn's records when training reads train.dbn then dev.dbn
        var trainThenDev = RnaFile.Read(Path.Combine(outDir, "train.dbn")).Records.Concat(RnaFile.Read(Path.Combine(outDir, "dev.dbn")).Records).ToList();
        var devSplit = EquiSharp.Training.DevSplit.LoadFile(Path.Combine(outDir, "dev-split.json"), trainThenDev.Select(r => r.Name).ToList());
        var (_, dev) = devSplit.Apply(trainThenDev);
        Assert.Equal(RnaFile.Read(Path.Combine(outDir, "dev.dbn")).Records.Select(r => r.Name), dev.Select(r => r.Name));
    }
}
