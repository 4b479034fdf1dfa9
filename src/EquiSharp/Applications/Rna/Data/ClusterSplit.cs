using System.Globalization;
using System.Text.Json;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Training;
using EquiSharp.Training;

namespace EquiSharp.Applications.Rna.Data;

/// <summary>
/// A train / dev / test split of RNA records by sequence-identity cluster (<see cref="IdentityClusters"/>): every
/// cluster lies wholly in one split, drawn by a seeded generator, so no test sequence has a training sequence at or
/// above the identity threshold. Written as <c>train.dbn</c>, <c>dev.dbn</c>, <c>test.dbn</c> (dot-bracket FASTA, read
/// by every RNA command), <c>clusters.tsv</c> (one line per record: split, cluster, source, name, length) and
/// <c>split.json</c> (the rule, its options and the counts), plus <c>dev-split.json</c> so that
/// <c>rna train --train DIR/train.dbn --train DIR/dev.dbn --dev-split DIR/dev-split.json</c> selects on the dev clusters.
/// </summary>
public static class ClusterSplit
{
    public static readonly string[] SplitNames = { "train", "dev", "test" };
    public const string SummaryFile = "split.json", ClustersFile = "clusters.tsv";

    /// <summary>What <c>split.json</c> records.</summary>
    public sealed record Summary(string Rule, double Identity, int WordSize, double[] Fractions, int Seed, string[] Sources,
        int Records, int Clusters, int LargestCluster, Dictionary<string, int> RecordsPerSplit, Dictionary<string, int> ClustersPerSplit,
        Dictionary<string, long> NucleotidesPerSplit);

    /// <summary>Reads the sources, clusters all their sequences together, draws the split and writes it to <paramref name="outDir"/>.</summary>
    public static Summary Build(IReadOnlyList<string> sources, string outDir, IdentityClusters.CdHitOptions cdHit, double[] fractions, int seed,
        Action<string>? log = null)
    {
        if (fractions.Length != 3) throw new ArgumentException("give three split fractions: train, dev, test.");
        var records = new List<(string Source, RnaStructure Record)>();
        foreach (var source in sources)
        {
            var read = RnaFile.Read(source);
            records.AddRange(read.Records.Select(r => (source, r)));
            log?.Invoke($"{source}: {read.Records.Count} records ({read.Format})");
        }
        if (records.Count == 0) throw new ArgumentException("the sources hold no records.");
        Directory.CreateDirectory(outDir);
        string work = Path.Combine(outDir, ".cd-hit");
        var cluster = IdentityClusters.Cluster(records.Select(r => r.Record.Sequence).ToList(), cdHit, work);
        Directory.Delete(work, recursive: true);
        var split = IdentityClusters.AssignSplits(cluster, fractions, seed);

        var bySplit = SplitNames.Select((_, s) => records.Where((_, i) => split[i] == s).Select(r => r.Record).ToList()).ToArray();
        for (int s = 0; s < SplitNames.Length; s++)
            RnaFile.Write(Path.Combine(outDir, SplitNames[s] + ".dbn"), bySplit[s], RnaFileFormat.DotBracketFasta);
        var tsv = new System.Text.StringBuilder("split\tcluster\tsource\tname\tlength\n");
        for (int i = 0; i < records.Count; i++)
            tsv.Append(CultureInfo.InvariantCulture, $"{SplitNames[split[i]]}\t{cluster[i]}\t{Path.GetFileName(records[i].Source)}\t{records[i].Record.Name}\t{records[i].Record.Length}\n");
        Checkpoint.WriteTextAtomic(Path.Combine(outDir, ClustersFile), tsv.ToString());

        var (trainRecords, devRecords) = (bySplit[0], bySplit[1]);
        if (devRecords.Count > 0)
            new DevSplit(seed, fractions[1], trainRecords.Count + devRecords.Count,
                Enumerable.Range(trainRecords.Count, devRecords.Count).ToArray(), devRecords.Select(r => r.Name).ToArray()).Save(outDir);

        var sizes = cluster.GroupBy(c => c).Select(g => g.Count()).ToArray();
        var summary = new Summary(
            Rule: $"cd-hit-est -c {cdHit.Identity.ToString(CultureInfo.InvariantCulture)} -n {cdHit.WordSize} over all sources together; each cluster drawn whole into train/dev/test with probabilities {string.Join(" / ", fractions.Select(f => f.ToString(CultureInfo.InvariantCulture)))} by a generator seeded with {seed}, in cd-hit's cluster order",
            cdHit.Identity, cdHit.WordSize, fractions, seed, sources.Select(Path.GetFileName).ToArray()!,
            records.Count, sizes.Length, sizes.Max(),
            SplitNames.Select((n, s) => (n, bySplit[s].Count)).ToDictionary(p => p.n, p => p.Item2),
            SplitNames.Select((n, s) => (n, cluster.Where((_, i) => split[i] == s).Distinct().Count())).ToDictionary(p => p.n, p => p.Item2),
            SplitNames.Select((n, s) => (n, bySplit[s].Sum(r => (long)r.Length))).ToDictionary(p => p.n, p => p.Item2));
        Checkpoint.WriteTextAtomic(Path.Combine(outDir, SummaryFile), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        return summary;
    }
}
