using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EquiSharp.Applications.Protein.Baselines;
using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Formats;
using EquiSharp.Training;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp protein features|baseline|contacts</c>: contact-map features from structures and alignments, and the coevolution baseline.</summary>
public sealed partial class ProteinCommand : ICliCommand
{
    public Command Build()
    {
        var command = new Command("protein", "Protein contact maps: features from PDB structures and Pfam alignments, coevolution baselines.");
        command.Subcommands.Add(Features());
        command.Subcommands.Add(Baseline());
        command.Subcommands.Add(Contacts());
        return command;
    }

    [GeneratedRegex(@"PF\d{5}")]
    private static partial Regex PfamId();

    private static Command Features()
    {
        var pdb = new Option<string>("--pdb") { Description = "Directory of PDB files (plain or .gz), one chain each, named <PFAM>_<PDB>_<CHAIN>.pdb[.gz].", Required = true };
        var aln = new Option<string>("--aln") { Description = "Directory of alignments (aligned FASTA/A2M/A3M/Stockholm, plain or .gz) whose names contain the Pfam id.", Required = true };
        var outDir = new Option<string>("--out") { Description = "Directory for the <name>.features files.", Required = true };
        var identity = new Option<double>("--reweight-identity") { Description = "Sequence reweighting: neighbours are rows with identity above this.", DefaultValueFactory = _ => 0.8 };
        var pseudocount = new Option<double>("--dca-pseudocount") { Description = "Pseudocount weight λ of mean-field DCA.", DefaultValueFactory = _ => MeanFieldDca.DefaultPseudocount };
        var device = CommonOptions.Device();
        var command = new Command("features", "Compute and cache the 1-D and 2-D features and the true distances of every protein (pairs files by Pfam id).")
            { pdb, aln, outDir, identity, pseudocount, device };
        command.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            double theta = parse.GetValue(identity), lambda = parse.GetValue(pseudocount);
            if (theta is <= 0 or > 1) throw new ArgumentException($"--reweight-identity {theta.ToString(CultureInfo.InvariantCulture)}: expected a value in (0, 1].");
            if (lambda is <= 0 or >= 1) throw new ArgumentException($"--dca-pseudocount {lambda.ToString(CultureInfo.InvariantCulture)}: expected a value in (0, 1).");
            var pairs = PairByPfam(parse.GetValue(pdb)!, parse.GetValue(aln)!);
            string output = parse.GetValue(outDir)!;
            Directory.CreateDirectory(output);
            var total = Stopwatch.StartNew();
            ProgressDisplay.Run(progress =>
            {
                progress.Start("features", pairs.Count);
                for (int k = 0; k < pairs.Count; k++)
                {
                    var (name, pdbPath, alnPath) = pairs[k];
                    var watch = Stopwatch.StartNew();
                    var chain = PdbReader.Read(pdbPath);
                    var alignment = AlignmentReader.Read(alnPath);
                    var f = ProteinFeatureBuilder.Build(name, chain, alignment, dev, theta, lambda);
                    ProteinFeatureFile.Write(Path.Combine(output, name + ProteinFeatureFile.Extension), f);
                    foreach (var warning in chain.Warnings) progress.Message($"warning: {warning}");
                    progress.Message(string.Create(CultureInfo.InvariantCulture,
                        $"{name} L={f.Length} mapped={f.MappedCount} coverage={f.Coverage:0.0000} identity={f.Identity:0.0000} rows={f.AlignmentRows} width={f.AlignmentWidth} meff={f.EffectiveSequences:0.0} seconds={watch.Elapsed.TotalSeconds:0.00}"));
                    progress.Step(k + 1, double.NaN);
                }
                return 0;
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {pairs.Count} feature files to {output} in {total.Elapsed.TotalSeconds:0.0} s"));
        });
        return command;
    }

    /// <summary>Structure and alignment files paired by the Pfam id in their names; a structure without an alignment is an error.</summary>
    private static List<(string Name, string Pdb, string Aln)> PairByPfam(string pdbDir, string alnDir)
    {
        foreach (var d in new[] { pdbDir, alnDir })
            if (!Directory.Exists(d)) throw new DirectoryNotFoundException($"{d}: no such directory");
        var alignments = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(alnDir).Order(StringComparer.Ordinal))
        {
            var m = PfamId().Match(Path.GetFileName(path));
            if (!m.Success) continue;
            if (!alignments.TryAdd(m.Value, path)) throw new ArgumentException($"{alnDir}: two alignments for {m.Value}: {Path.GetFileName(alignments[m.Value])} and {Path.GetFileName(path)}");
        }
        var pairs = new List<(string, string, string)>();
        foreach (var path in Directory.EnumerateFiles(pdbDir).Order(StringComparer.Ordinal))
        {
            string file = Path.GetFileName(path);
            var m = PfamId().Match(file);
            if (!m.Success) continue;
            if (!alignments.TryGetValue(m.Value, out var alnPath)) throw new ArgumentException($"{path}: no alignment for {m.Value} in {alnDir}");
            string name = file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? file[..^3] : file;
            pairs.Add((Path.GetFileNameWithoutExtension(name), path, alnPath));
        }
        return pairs.Count > 0 ? pairs : throw new ArgumentException($"{pdbDir}: no structure file with a Pfam id (PFnnnnn) in its name");
    }

    private static Command Baseline()
    {
        var features = new Option<string>("--features") { Description = "Directory of .features files (from 'protein features').", Required = true };
        var score = new Option<string>("--score") { Description = "dca (mean-field DCA) or mi (APC-corrected mutual information).", DefaultValueFactory = _ => "dca" };
        var atom = new Option<string>("--atom") { Description = "Contact atom: cb (Cβ, Cα for glycine) or ca (Cα, the paper's definition).", DefaultValueFactory = _ => "cb" };
        var command = new Command("baseline", "Top-L/k precision of an unsupervised coevolution score per protein (contacts < 8 Å).") { features, score, atom };
        command.SetAction(parse =>
        {
            var baseline = CouplingScoreBaseline.FromName(parse.GetValue(score)!);
            var contactAtom = ContactMaps.ParseAtom(parse.GetValue(atom)!);
            var rows = ProteinFeatureFile.List(parse.GetValue(features)!)
                .Select(ProteinFeatureFile.Read)
                .Select(f => (f.Name, Scores: baseline.Evaluate(f, contactAtom)))
                .ToList();
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine("protein\tL\ttop_l5_long\ttop_l2_long\ttop_l_long\ttop_l5_medium\ttop_l5_short");
            foreach (var (name, s) in rows)
                Console.WriteLine(string.Create(inv, $"{name}\t{s.Length}\t{s.TopL5Long:0.0000}\t{s.TopL2Long:0.0000}\t{s.TopPrecision["top_l_long"]:0.0000}\t{s.TopPrecision["top_l5_medium"]:0.0000}\t{s.TopPrecision["top_l5_short"]:0.0000}"));
            double Mean(string key) => rows.Select(r => r.Scores.TopPrecision[key]).Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Average();
            Console.WriteLine(string.Create(inv, $"mean top_l5_long={Mean("top_l5_long"):0.0000} top_l2_long={Mean("top_l2_long"):0.0000} top_l_long={Mean("top_l_long"):0.0000} n={rows.Count}"));
        });
        return command;
    }

    private static Command Contacts()
    {
        var pdb = new Option<string>("--pdb") { Description = "A PDB file (plain or .gz).", Required = true };
        var outDir = new Option<string>("--out") { Description = "Directory for <name>.rr (CASP RR contact list) and <name>.png (the map).", Required = true };
        var atom = new Option<string>("--atom") { Description = "Contact atom: cb (Cβ, Cα for glycine) or ca (Cα, the paper's definition).", DefaultValueFactory = _ => "cb" };
        var chainOption = new Option<string?>("--chain") { Description = "Chain identifier (default: the first chain in the file)." };
        var command = new Command("contacts", "Write a structure's true contact map (< 8 Å) as a CASP RR list and a PNG.") { pdb, outDir, atom, chainOption };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(pdb)!, output = parse.GetValue(outDir)!;
            string? chainText = parse.GetValue(chainOption);
            if (chainText is { Length: not 1 }) throw new ArgumentException($"--chain {chainText}: expected one character.");
            var contactAtom = ContactMaps.ParseAtom(parse.GetValue(atom)!);
            var chain = PdbReader.Read(path, chainText?[0]);
            foreach (var warning in chain.Warnings) Console.Error.WriteLine($"warning: {warning}");
            var map = ContactMaps.FromDistances(ContactMaps.Distances(chain, contactAtom), chain.Length);
            string file = Path.GetFileName(path), name = Path.GetFileNameWithoutExtension(file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? file[..^3] : file);
            Directory.CreateDirectory(output);
            ContactWriters.WriteRr(Path.Combine(output, name + ".rr"), name, chain.Sequence, map);
            ContactWriters.MapPng(Path.Combine(output, name + ".png"), map, chain.Length, $"{name} contacts ({(contactAtom == ContactAtom.Beta ? "Cβ" : "Cα")} < 8 Å)");
            int contacts = (int)(map.Sum() / 2);
            Console.WriteLine($"{name} L={chain.Length} contacts={contacts} wrote {name}.rr and {name}.png to {output}");
        });
        return command;
    }
}
