using System.CommandLine;
using System.Globalization;
using EquiSharp.Applications.Rna.Data;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp rna clusters</c>: a train/dev/test split by sequence-identity cluster (cd-hit-est), written as record files.</summary>
internal static class RnaClustersCommand
{
    public static Command Build()
    {
        var train = new Option<string[]>("--train") { Description = "Record files to cluster together (any supported format, plain or gzip); repeat for several sources.", Required = true };
        var outDir = new Option<string>("--out") { Description = "Output directory: train.dbn, dev.dbn, test.dbn, clusters.tsv, split.json.", Required = true };
        var identity = new Option<double>("--identity") { Description = "cd-hit-est identity threshold (-c).", DefaultValueFactory = _ => 0.8 };
        var word = new Option<int>("--word") { Description = "cd-hit-est word size (-n; 5 for identities 0.80-0.85).", DefaultValueFactory = _ => 5 };
        var fractions = new Option<string>("--fractions") { Description = "Probabilities with which a cluster goes to train, dev, test.", DefaultValueFactory = _ => "0.9,0.05,0.05" };
        var threads = new Option<int>("--cd-hit-threads") { Description = "Threads for cd-hit-est (-T).", DefaultValueFactory = _ => 1 };
        var seed = CommonOptions.Seed();
        var command = new Command("clusters", "Split records into train/dev/test by sequence-identity clusters of cd-hit-est (Debian package cd-hit): whole clusters go to one split, drawn by --seed.")
        { train, outDir, identity, word, fractions, threads, seed };
        command.SetAction(parse =>
        {
            double[] f;
            try { f = parse.GetValue(fractions)!.Split(',').Select(x => double.Parse(x, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray(); }
            catch (FormatException) { throw new ArgumentException($"--fractions {parse.GetValue(fractions)}: expected three comma-separated numbers, e.g. 0.9,0.05,0.05."); }
            var summary = ClusterSplit.Build(parse.GetValue(train)!, parse.GetValue(outDir)!,
                new IdentityClusters.CdHitOptions(parse.GetValue(identity), parse.GetValue(word), parse.GetValue(threads)), f, parse.GetValue(seed), Console.WriteLine);
            Console.WriteLine($"{summary.Records} records in {summary.Clusters} clusters (largest {summary.LargestCluster})");
            foreach (var name in ClusterSplit.SplitNames)
                Console.WriteLine($"{name,-5}: {summary.RecordsPerSplit[name],6} records, {summary.ClustersPerSplit[name],6} clusters, {summary.NucleotidesPerSplit[name],9} nt");
            string o = parse.GetValue(outDir)!;
            Console.WriteLine($"wrote {o}; train on it with: equisharp rna train --train {Path.Combine(o, "train.dbn")} --train {Path.Combine(o, "dev.dbn")} --dev-split {Path.Combine(o, "dev-split.json")} ...");
            return 0;
        });
        return command;
    }
}
