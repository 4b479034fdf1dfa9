using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EquiSharp.Applications.Protein.Baselines;
using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Evaluation;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Formats;
using EquiSharp.Applications.Protein.Training;
using EquiSharp.Training;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp protein features|baseline|contacts</c>: contact-map features from structures and alignments, and the coevolution baseline.</summary>
public sealed partial class ProteinCommand : ICliCommand
{
    public Command Build()
    {
        var command = new Command("protein", "Protein contact maps: features from PDB structures and Pfam alignments, coevolution baselines, SCNN/CNN contact predictors.");
        command.Subcommands.Add(Features());
        command.Subcommands.Add(Baseline());
        command.Subcommands.Add(Contacts());
        command.Subcommands.Add(Train());
        command.Subcommands.Add(Eval());
        command.Subcommands.Add(Predict());
        command.Subcommands.Add(Compare());
        command.Subcommands.Add(ProteinMapsCommand.Build());
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

    private static Command Train()
    {
        var features = new Option<string?>("--features") { Description = "Directory of .features files (from 'protein features'); on --resume, default: the run's own." };
        var model = new Option<string>("--model") { Description = "scnn (symmetry-structured) or cnn (plain convolutions).", DefaultValueFactory = _ => "scnn" };
        var outDir = new Option<string?>("--out") { Description = "Model directory (model.json, checkpoints, best weights, curves, held-out report)." };
        var folds = new Option<int>("--folds") { Description = "Cross-validation folds K: proteins sorted by Pfam id, fold = index mod K.", DefaultValueFactory = _ => ContactSplit.DefaultFolds };
        var fold = new Option<int>("--fold") { Description = "Held-out fold I (0 to K-1); never used for training or model selection.", DefaultValueFactory = _ => 0 };
        var seed = CommonOptions.Seed();
        var epochs = new Option<int>("--epochs") { Description = "Epochs of --batches-per-epoch batches (40 × 5 = 200 steps).", DefaultValueFactory = _ => 40 };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Stop after this many optimizer steps (smoke runs)." };
        var maxCpuHours = CommonOptions.MaxCpuHours();
        var crop = new Option<int>("--crop") { Description = "Random training crops of at most this many residues.", DefaultValueFactory = _ => new ContactTrainingOptions().Crop };
        var batches = new Option<int>("--batches-per-epoch") { Description = "Batches of 10 crops per epoch (each epoch ends with a dev evaluation).", DefaultValueFactory = _ => new ContactTrainingOptions().BatchesPerEpoch };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this model directory from its last checkpoint (its stored model, split, potential and settings win; --epochs and --max-steps are the new budget)." };
        var device = CommonOptions.Device();
        var checkpoints = new CheckpointOptions();
        var command = new Command("train", "Train ContactScnn or ContactCnn on K-1 folds (dev: 3 training proteins by --seed) and score the held-out fold.")
            { features, model, outDir, folds, fold, seed, epochs, maxSteps, maxCpuHours, crop, batches, resume, device, CommonOptions.Threads(), CommonOptions.Convolution() };
        checkpoints.AddTo(command);
        command.SetAction(parse =>
        {
            string? resumeDir = parse.GetValue(resume);
            var options = new ContactTrainRunOptions
            {
                FeaturesDir = parse.GetValue(features), OutDir = CommonOptions.RunDirectory(resumeDir, parse.GetValue(outDir)),
                Model = parse.GetValue(model)!, Checkpoints = checkpoints.Get(parse),
                Folds = parse.GetValue(folds), Fold = parse.GetValue(fold), Seed = parse.GetValue(seed), Epochs = parse.GetValue(epochs),
                MaxSteps = parse.GetValue(maxSteps), MaxCpuHours = parse.GetValue(maxCpuHours), Resume = resumeDir is not null, Device = CommonOptions.ParseDevice(parse.GetValue(device)!),
                Training = new ContactTrainingOptions { Crop = parse.GetValue(crop), BatchesPerEpoch = parse.GetValue(batches) },
            };
            if (options.Epochs < 1) throw new ArgumentException($"--epochs {options.Epochs}: expected a positive number.");
            var result = ProgressDisplay.Run(progress => ContactTrainRun.Run(options, progress));
            var state = result.Fit.State;
            Console.Write(result.Report ?? "");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trained steps={state.Step} epochs={state.History.Count} seconds={state.TrainSeconds:0.0} parameters={result.Parameters} best_dev={state.BestScore:0.0000} out={options.OutDir}"));
        });
        return command;
    }

    private static Command Eval()
    {
        var model = new Option<string>("--model") { Description = "A model directory from 'protein train', or dca / mi for the coevolution baseline.", Required = true };
        var features = new Option<string?>("--features") { Description = "Directory of .features files (default: the one the model was trained on; required for dca / mi)." };
        var folds = new Option<int>("--folds") { Description = "For dca / mi: score the held-out proteins of --fold of K folds (the models' folds).", DefaultValueFactory = _ => ContactSplit.DefaultFolds };
        var fold = new Option<int?>("--fold") { Description = "For dca / mi: the fold to score (default: every protein)." };
        var device = CommonOptions.Device();
        var command = new Command("eval", "Score contact predictions per protein against Cβ and Cα contacts (default: the model's held-out fold); last line: Cβ means.")
            { model, features, folds, fold, device, CommonOptions.Threads(), CommonOptions.Convolution() };
        command.SetAction(parse =>
        {
            string which = parse.GetValue(model)!;
            string? featuresDir = parse.GetValue(features);
            if (which.Trim().ToLowerInvariant() is "dca" or "mi")
            {
                var baseline = CouplingScoreBaseline.FromName(which);
                if (featuresDir is null) throw new ArgumentException($"--model {which} needs --features DIR.");
                var proteins = ProteinFeatureFile.List(featuresDir).Select(ProteinFeatureFile.Read).ToList();
                if (parse.GetValue(fold) is int i)
                {
                    var heldOut = ContactSplit.HeldOut(proteins.Select(p => p.Name), parse.GetValue(folds), i).ToHashSet(StringComparer.Ordinal);
                    proteins = ContactSplit.Order(proteins.Select(p => p.Name)).Where(heldOut.Contains).Select(n => proteins.Single(p => p.Name == n)).ToList();
                }
                Console.Write(ContactPrediction.Report(proteins.Select(p => ContactPrediction.Score(p, baseline.Score(p))).ToList()));
                return;
            }
            if (parse.GetValue(fold) is not null) throw new ArgumentException("--fold is for dca / mi; a model is scored on its own held-out fold.");
            Console.Write(ContactTrainRun.EvaluateHeldOut(which, featuresDir, CommonOptions.ParseDevice(parse.GetValue(device)!)));
        });
        return command;
    }

    private static Command Predict()
    {
        var model = new Option<string>("--model") { Description = "A model directory from 'protein train'.", Required = true };
        var aln = new Option<string>("--aln") { Description = "The query family's alignment (aligned FASTA/A2M/A3M/Stockholm, plain or .gz).", Required = true };
        var pdb = new Option<string?>("--pdb") { Description = "The query's structure: its chain is the query and its true map is drawn and scored." };
        var seq = new Option<string?>("--seq") { Description = "The query sequence (default without --pdb: the alignment's first row)." };
        var outDir = new Option<string>("--out") { Description = "Directory for <name>.rr and <name>.png.", Required = true };
        var device = CommonOptions.Device();
        var command = new Command("predict", "Predict a contact map from an alignment with a trained model: CASP RR list and PNG (upper: predicted, lower: true).")
            { model, aln, pdb, seq, outDir, device, CommonOptions.Threads(), CommonOptions.Convolution() };
        command.SetAction(parse =>
        {
            var r = ContactQuery.Predict(parse.GetValue(model)!, parse.GetValue(aln)!, parse.GetValue(pdb), parse.GetValue(seq), parse.GetValue(outDir)!,
                CommonOptions.ParseDevice(parse.GetValue(device)!));
            string scores = r.Scores is null ? "" : string.Create(CultureInfo.InvariantCulture,
                $" top_l5_long={r.Scores.Beta.TopL5Long:0.0000} top_l2_long={r.Scores.Beta.TopL2Long:0.0000} ppv={r.Scores.Beta.Thresholded.Ppv:0.0000} sen={r.Scores.Beta.Thresholded.Sensitivity:0.0000} acc={r.Scores.Beta.Thresholded.Accuracy:0.0000}");
            Console.WriteLine($"predicted {r.Name} L={r.Length} mapped={r.Mapped} rr={r.RrPath} png={r.PngPath}{scores}");
        });
        return command;
    }

    private static Command Compare()
    {
        var a = new Option<string[]>("--a") { Description = "'protein eval' outputs or run directories (their report.txt) of predictor A.", Required = true, AllowMultipleArgumentsPerToken = true };
        var b = new Option<string[]>("--b") { Description = "The same for predictor B.", Required = true, AllowMultipleArgumentsPerToken = true };
        var metric = new Option<string>("--metric") { Description = "Column to compare (top_l5_long, top_l2_long, ppv, ca_top_l5_long, ...).", DefaultValueFactory = _ => "top_l5_long" };
        var command = new Command("compare", "Per-protein paired comparison of two predictors' eval tables: A − B per protein; last line wins/losses/ties and mean difference.")
            { a, b, metric };
        command.SetAction(parse =>
        {
            static IEnumerable<string> Files(string[] paths) => paths.Select(p => Directory.Exists(p) ? Path.Combine(p, ContactTrainRun.ReportName) : p);
            string m = parse.GetValue(metric)!;
            var comparison = PairedComparison.Of(m, PairedComparison.ReadColumn(Files(parse.GetValue(a)!), m), PairedComparison.ReadColumn(Files(parse.GetValue(b)!), m));
            Console.WriteLine("protein\ta\tb\ta_minus_b");
            foreach (var (protein, x, y) in comparison.Rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{protein}\t{x:0.0000}\t{y:0.0000}\t{x - y:0.0000}"));
            Console.WriteLine(comparison.SummaryLine());
        });
        return command;
    }
}
