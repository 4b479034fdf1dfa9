using System.CommandLine;
using System.Globalization;
using EquiSharp.Applications.Dna;
using EquiSharp.Applications.Dna.Data;
using EquiSharp.Applications.Dna.Formats;
using EquiSharp.Applications.Dna.Interpretation;
using EquiSharp.Applications.Dna.Models;
using EquiSharp.Applications.Dna.Simulation;
using EquiSharp.Applications.Dna.Training;
using EquiSharp.Metrics;
using EquiSharp.Training;
using TorchSharp;

namespace EquiSharp.Cli.Commands;

/// <summary>
/// <c>equisharp dna</c>: reverse-complement parameter sharing for DNA (Shrikumar et al.): simulate the embedded-motif
/// data, train RC or standard models, evaluate, check RC consistency, compare groups of runs with the exact rank-sum test.
/// </summary>
public sealed class DnaCommand : ICliCommand
{
    private static readonly string[] PaperMotifs = { "GATA_known6", "ELF1_known2", "RXRA_known1" };

    public Command Build() => new("dna", "Reverse-complement equivariant networks for DNA (Shrikumar, Greenside & Kundaje).")
    {
        Simulate(), Train(), Eval(), CheckRc(), Compare(), Curve(), Filters(),
    };

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static Command Simulate()
    {
        var motifs = new Option<string>("--motifs") { Description = "Motif file: ENCODE/HOMER-style text or JASPAR (.jaspar/.pfm), plain or gzip.", Required = true };
        var names = new Option<string>("--names") { Description = "Comma-separated motif names, one task each.", DefaultValueFactory = _ => string.Join(",", PaperMotifs) };
        var outDir = new Option<string>("--out") { Description = "Output directory (sequences.fa, labels.tsv, planted.tsv).", Required = true };
        var n = new Option<int>("--n") { Description = "Number of sequences (split evenly between the motifs).", DefaultValueFactory = _ => 30000 };
        var length = new Option<int>("--length") { Description = "Sequence length.", DefaultValueFactory = _ => 200 };
        var seed = CommonOptions.Seed();
        var command = new Command("simulate", "Simulate sequences with embedded motif instances as in §3.2 (40% GC background, Poisson(2) instances in [1,3], 20% labels shuffled, split 40/30/30).")
        { motifs, names, outDir, n, length, seed };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(motifs)!;
            var all = MotifReader.Read(path);
            var chosen = MotifReader.Select(all, path, parse.GetValue(names)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            var data = MotifSimulation.Run(chosen, new MotifSimulationOptions { Count = parse.GetValue(n), Length = parse.GetValue(length), Seed = parse.GetValue(seed) });
            MotifSimulation.Write(data, parse.GetValue(outDir)!);
            foreach (var m in chosen) Console.WriteLine($"{m.Name}: {m.Length} positions, {data.SourceMotif.Count(s => s == Array.IndexOf(chosen.ToArray(), m))} sequences");
            Console.WriteLine($"{data.Ids.Length} sequences of length {parse.GetValue(length)}, {data.Planted.Count} motif instances, {data.ShuffledCount} label vectors shuffled; " +
                              $"train {data.Split.Count(s => s == DnaDataSet.Train)}, valid {data.Split.Count(s => s == DnaDataSet.Valid)}, test {data.Split.Count(s => s == DnaDataSet.Test)}");
            Console.WriteLine($"wrote {parse.GetValue(outDir)}");
            return 0;
        });
        return command;
    }

    /// <summary>--data DIR, or --fasta F with --labels F; split 40/30/30 by --seed unless the labels have a split column.</summary>
    private sealed record DataOptions(Option<string?> Dir, Option<string?> Fasta, Option<string?> Labels)
    {
        public static DataOptions Create() => new(
            new Option<string?>("--data") { Description = "A directory from `dna simulate` (sequences.fa + labels.tsv)." },
            new Option<string?>("--fasta") { Description = "FASTA of equal-length sequences (with --labels instead of --data)." },
            new Option<string?>("--labels") { Description = "Labels TSV: id, one 0/1 column per task, optional split column (train/valid/test)." });

        public IEnumerable<Option> All => new Option[] { Dir, Fasta, Labels };

        public DnaDataSet Load(ParseResult parse, int seed)
        {
            string? dir = parse.GetValue(Dir), fasta = parse.GetValue(Fasta), labels = parse.GetValue(Labels);
            if (dir is not null && (fasta is not null || labels is not null)) throw new ArgumentException("give either --data DIR or --fasta with --labels, not both.");
            if (dir is not null) return DnaDataSet.LoadDirectory(dir, seed);
            if (fasta is null || labels is null) throw new ArgumentException("give --data DIR (from `dna simulate`) or both --fasta and --labels.");
            return DnaDataSet.Load(fasta, labels, seed);
        }
    }

    private static Command Train()
    {
        var data = DataOptions.Create();
        var kind = new Option<string>("--model") { Description = "rc (reverse-complement weight sharing) or standard.", DefaultValueFactory = _ => "rc" };
        kind.AcceptOnlyFromAmong("rc", "standard");
        var filters = new Option<int>("--filters") { Description = "Convolution filters per layer (an RC layer outputs twice as many channels).", DefaultValueFactory = _ => 20 };
        var architecture = new Option<string>("--architecture") { Description = "simulated (§3.4.1: one conv of width 21, pool 20/20, three tasks) or chipseq (§3.4.2: widths 15/14/14, pool 40/20, one task).", DefaultValueFactory = _ => "simulated" };
        architecture.AcceptOnlyFromAmong("simulated", "chipseq");
        var augment = new Option<bool>("--augment") { Description = "Reverse complement each training sample with probability 1/2 (the augmentation baseline)." };
        var trainFraction = new Option<double>("--train-fraction") { Description = "Train on this fraction of the training split (a seeded subset, nested across fractions for one seed; the training-set-size curve). Validation and test are unchanged.", DefaultValueFactory = _ => 1.0 };
        var outDir = new Option<string?>("--out") { Description = "Model directory to create." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this model directory." };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Stop after this many optimizer steps (smoke runs)." };
        var maxCpuHours = CommonOptions.MaxCpuHours();
        var maxEpochs = new Option<int>("--max-epochs") { Description = "Upper bound on epochs (early stopping usually ends sooner).", DefaultValueFactory = _ => 500 };
        var patience = new Option<int>("--patience") { Description = "Stop when mean validation auROC has not improved for this many epochs.", DefaultValueFactory = _ => 10 };
        var samples = new Option<int>("--samples-per-epoch") { Description = "Training samples per epoch.", DefaultValueFactory = _ => 5000 };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 500 };
        var posWeight = new Option<double?>("--positive-weight") { Description = "Weight of positive examples in the loss (e.g. 5 for a 5:1 class imbalance, §3.4.2)." };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var command = new Command("train", "Train an RC or standard model (Adam 1e-3, binary cross-entropy, epochs of 5,000 samples in batches of 500, patience 10 on mean validation auROC).")
        { kind, filters, architecture, augment, trainFraction, outDir, resume, maxSteps, maxCpuHours, maxEpochs, patience, samples, batch, posWeight, CommonOptions.Threads(defaultThreads: 1), seed, device };
        foreach (var o in data.All) command.Options.Add(o);
        command.SetAction(parse =>
        {
            string? resumeDir = parse.GetValue(resume);
            string dir = CommonOptions.RunDirectory(resumeDir, parse.GetValue(outDir));
            int s = parse.GetValue(seed);
            var ds = data.Load(parse, s);
            var options = new DnaTrainOptions
            {
                Data = ds, OutDir = dir, Kind = parse.GetValue(kind)!, Filters = parse.GetValue(filters), Architecture = parse.GetValue(architecture)!,
                Augment = parse.GetValue(augment), TrainFraction = parse.GetValue(trainFraction), Seed = s, MaxSteps = parse.GetValue(maxSteps), MaxCpuHours = parse.GetValue(maxCpuHours), MaxEpochs = parse.GetValue(maxEpochs),
                Patience = parse.GetValue(patience), SamplesPerEpoch = parse.GetValue(samples), BatchSize = parse.GetValue(batch),
                PositiveWeight = parse.GetValue(posWeight) is double w ? Enumerable.Repeat(w, ds.TaskNames.Length).ToArray() : null,
                Resume = resumeDir is not null, Device = CommonOptions.ParseDevice(parse.GetValue(device)!),
            };
            var report = ProgressDisplay.Run(progress => DnaTrainRun.Run(options, progress));
            if (report is null) { Console.WriteLine($"stopped before the end of training; resume with --resume {dir}"); return 0; }
            Console.WriteLine(Inv($"test auroc={report.AuRoc:0.0000} auprc={report.AuPrc:0.0000} (best epoch {report.BestEpoch}, {report.Seconds:0.0} s) in {dir}"));
            return 0;
        });
        return command;
    }

    private static Command Eval()
    {
        var data = DataOptions.Create();
        var model = new Option<string>("--model") { Description = "A model directory from `dna train`.", Required = true };
        var split = new Option<string>("--split") { Description = "Which split to score: test, valid, train or all.", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("test", "valid", "train", "all");
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var command = new Command("eval", "Per-task and mean auROC/auPRC of a trained model on a split (last line: auroc=<x> auprc=<x>).") { model, split, seed, device, CommonOptions.Threads() };
        foreach (var o in data.All) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            var ds = data.Load(parse, parse.GetValue(seed));
            var (m, weights) = DnaModelStore.Load(parse.GetValue(model)!, dev);
            using (m)
            {
                string which = parse.GetValue(split)!;
                long[] idx = which == "all" ? Enumerable.Range(0, ds.Count).Select(i => (long)i).ToArray() : ds.Indices(Array.IndexOf(LabelTable.SplitNames, which));
                if (idx.Length == 0) throw new ArgumentException($"the {which} split is empty.");
                var scores = DnaEvaluation.Score(m, ds, idx, dev);
                Console.WriteLine($"{m} ({weights}); {which} split: {idx.Length} sequences");
                foreach (var line in scores.Table()) Console.WriteLine(line);
                Console.WriteLine(Inv($"auroc={scores.MeanAuRoc:0.0000} auprc={scores.MeanAuPrc:0.0000}"));
            }
            return 0;
        });
        return command;
    }

    private static Command CheckRc()
    {
        var model = new Option<string>("--model") { Description = "A model directory from `dna train`.", Required = true };
        var fasta = new Option<string>("--fasta") { Description = "Sequences of the model's length.", Required = true };
        var device = CommonOptions.Device();
        var command = new Command("check-rc", "Max |p(x) - p(rc(x))| over the sequences of a FASTA file (0 up to rounding for an RC model; last line max_rc_dev=<x>).") { model, fasta, device, CommonOptions.Threads() };
        command.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            var (m, _) = DnaModelStore.Load(parse.GetValue(model)!, dev);
            using (m)
            {
                string path = parse.GetValue(fasta)!;
                var records = Fasta.Read(path);
                var wrong = records.FirstOrDefault(r => r.Sequence.Length != m.Spec.SequenceLength);
                if (wrong is not null) throw new InvalidDataException($"{path}:{wrong.HeaderLine}: sequence '{wrong.Id}' has length {wrong.Sequence.Length}; the model takes {m.Spec.SequenceLength}.");
                var codes = records.SelectMany(r => Fasta.Encode(r.Sequence)).ToArray();
                using var t = torch.tensor(codes, new long[] { records.Count, m.Spec.SequenceLength }, dtype: torch.ScalarType.Byte);
                var forward = DnaEvaluation.Predict(m, t, dev);
                var reverse = DnaEvaluation.Predict(m, t, dev, reverseComplement: true);
                var gaps = Enumerable.Range(0, records.Count).Select(i => Enumerable.Range(0, m.Spec.TaskNames.Length).Max(k => Math.Abs(forward[i, k] - reverse[i, k]))).ToArray();
                Array.Sort(gaps);
                Console.WriteLine($"{m}; {records.Count} sequences");
                Console.WriteLine(Inv($"|p(x) - p(rc(x))|: median {gaps[gaps.Length / 2]:0.###e+00}, 99th percentile {gaps[(int)(0.99 * (gaps.Length - 1))]:0.###e+00}, fraction above 0.1 {gaps.Count(g => g > 0.1) / (double)gaps.Length:0.0000}"));
                Console.WriteLine(Inv($"max_rc_dev={gaps[^1]:0.###e+00}"));
            }
            return 0;
        });
        return command;
    }

    private static Command Compare()
    {
        var a = new Option<string[]>("--a") { Description = "Model directories of group A (one per seed).", Required = true, AllowMultipleArgumentsPerToken = true };
        var b = new Option<string[]>("--b") { Description = "Model directories of group B.", Required = true, AllowMultipleArgumentsPerToken = true };
        var metric = new Option<string>("--metric") { Description = "Test-split metric: auroc or auprc.", DefaultValueFactory = _ => "auroc" };
        metric.AcceptOnlyFromAmong("auroc", "auprc");
        var command = new Command("compare", "Per-seed test scores of two groups of runs and the one-sided exact Wilcoxon rank-sum p-value that A > B (last line p_value=<x>).") { a, b, metric };
        command.SetAction(parse =>
        {
            string which = parse.GetValue(metric)!;
            var ga = parse.GetValue(a)!.Select(d => (Dir: d, Report: DnaTrainRun.ReadReport(d))).ToList();
            var gb = parse.GetValue(b)!.Select(d => (Dir: d, Report: DnaTrainRun.ReadReport(d))).ToList();
            double Value(DnaTestReport r) => which == "auroc" ? r.AuRoc : r.AuPrc;
            Console.WriteLine($"{"group",-5} {"seed",5} {"auroc",7} {"auprc",7} {"max_rc_gap",10}  directory");
            foreach (var (name, group) in new[] { ("A", ga), ("B", gb) })
                foreach (var (dir, r) in group)
                    Console.WriteLine(Inv($"{name,-5} {r.Seed,5} {r.AuRoc,7:0.0000} {r.AuPrc,7:0.0000} {r.MaxRcGap,10:0.0e+00}  {dir}"));
            foreach (var (name, group) in new[] { ("A", ga), ("B", gb) })
            {
                var v = group.Select(g => Value(g.Report)).ToArray();
                Console.WriteLine(Inv($"{name}: {which} mean {v.Average():0.0000}, min {v.Min():0.0000}, max {v.Max():0.0000} over {v.Length} runs"));
            }
            double p = RankSumTest.OneSidedGreater(ga.Select(g => Value(g.Report)).ToArray(), gb.Select(g => Value(g.Report)).ToArray());
            Console.WriteLine($"one-sided exact Wilcoxon rank-sum test, H1: {which}(A) > {which}(B)");
            Console.WriteLine(Inv($"p_value={p:0.####e+00}"));
            return 0;
        });
        return command;
    }

    private static Command Curve()
    {
        var runs = new Option<string[]>("--runs") { Description = "Finished run directories (from `dna train`, any mix of models, fractions and seeds).", Required = true, AllowMultipleArgumentsPerToken = true };
        var metric = new Option<string>("--metric") { Description = "Test-split metric: auroc or auprc.", DefaultValueFactory = _ => "auroc" };
        metric.AcceptOnlyFromAmong("auroc", "auprc");
        var outPath = new Option<string?>("--out") { Description = "PNG of the curve (mean ± sd over seeds against the training fraction)." };
        var command = new Command("curve", "The training-set-size curve: test scores of finished runs grouped by model and --train-fraction, mean ± sd, min and max over seeds (the paper's Fig. 6, on the simulation).") { runs, metric, outPath };
        command.SetAction(parse =>
        {
            string which = parse.GetValue(metric)!;
            var points = TrainingSizeCurve.Summarise(parse.GetValue(runs)!.Select(DnaTrainRun.ReadReport), which);
            foreach (var line in TrainingSizeCurve.Table(points, which)) Console.WriteLine(line);
            if (parse.GetValue(outPath) is string png)
            {
                TrainingSizeCurve.Plot(png, points, which, $"test {which} against training-set size (mean ± sd over seeds)");
                Console.WriteLine($"wrote {png}");
            }
            return 0;
        });
        return command;
    }

    private static Command Filters()
    {
        var data = DataOptions.Create();
        var model = new Option<string>("--model") { Description = "A model directory from `dna train` (one convolution layer).", Required = true };
        var outDir = new Option<string>("--out") { Description = "Output directory (filter-scores.tsv, logos.png).", Required = true };
        var motifs = new Option<string?>("--motifs") { Description = "Motif file holding the tasks' motifs, drawn next to the filters with their reverse complements." };
        var top = new Option<int>("--top") { Description = "Filters drawn per task.", DefaultValueFactory = _ => 2 };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var command = new Command("filters", "Contribution scores of the convolution filters (§3.5: gradient × activation, positives minus negatives, test split) and sequence logos of the top filters.")
        { model, outDir, motifs, top, seed, device, CommonOptions.Threads() };
        foreach (var o in data.All) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            var ds = data.Load(parse, parse.GetValue(seed));
            var (m, _) = DnaModelStore.Load(parse.GetValue(model)!, dev);
            using (m)
            {
                if (m.Spec.KernelWidths.Length != 1) throw new ArgumentException("filter logos are drawn for models with one convolution layer (the simulated-data architecture, §3.5).");
                var scores = FilterContributions.Scores(m, ds, ds.Indices(DnaDataSet.Test), dev);
                string dir = parse.GetValue(outDir)!;
                Directory.CreateDirectory(dir);
                var tasks = m.Spec.TaskNames;
                using (var w = new StreamWriter(Path.Combine(dir, "filter-scores.tsv")))
                {
                    w.Write("filter\t" + string.Join("\t", tasks) + "\n");
                    for (int f = 0; f < m.Spec.Filters; f++)
                        w.Write(f + "\t" + string.Join("\t", Enumerable.Range(0, tasks.Length).Select(t => scores[t, f].ToString("0.####", CultureInfo.InvariantCulture))) + "\n");
                }
                var planted = parse.GetValue(motifs) is string path ? MotifReader.Read(path).GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.First()) : new();
                var rows = new List<(string, double[,])>();
                for (int t = 0; t < tasks.Length; t++)
                {
                    if (planted.TryGetValue(tasks[t], out var motif))
                    {
                        rows.Add(($"{tasks[t]} (planted)", Plots.InformationHeights(motif.Probabilities)));
                        rows.Add(($"{tasks[t]} (reverse complement)", Plots.InformationHeights(motif.ReverseComplement().Probabilities)));
                    }
                    foreach (int f in Enumerable.Range(0, m.Spec.Filters).OrderByDescending(f => scores[t, f]).Take(parse.GetValue(top)))
                    {
                        rows.Add((Inv($"{tasks[t]}: filter {f} (score {scores[t, f]:0.###})"), FilterContributions.FilterHeights(m, f)));
                        Console.WriteLine(Inv($"{tasks[t]}: filter {f} score {scores[t, f]:0.####}"));
                    }
                }
                Plots.SequenceLogos(Path.Combine(dir, "logos.png"), rows, $"{m.Spec.Kind} model, {m.Spec.Filters} filters: planted motifs (bits) and top filters (mean-centred weights, scaled)");
                Console.WriteLine($"wrote {Path.Combine(dir, "filter-scores.tsv")} and {Path.Combine(dir, "logos.png")}");
            }
            return 0;
        });
        return command;
    }
}
