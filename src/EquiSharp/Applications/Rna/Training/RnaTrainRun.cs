using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Metrics;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Applications.Rna.Decoding;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Inference;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Training;

/// <summary>Records read from a file or a directory, with the files that were skipped and warnings.</summary>
public sealed record RnaDataSet(string Source, List<RnaStructure> Records, List<SkippedFile> Skipped, List<string> Warnings)
{
    /// <summary>Reads a file (any supported format, plain or gzip) or every parsable file of a directory.</summary>
    public static RnaDataSet Load(string path)
    {
        if (Directory.Exists(path))
        {
            var d = RnaFile.ReadDirectory(path);
            return new RnaDataSet(path, d.Records.ToList(), d.Skipped.ToList(), d.Files.SelectMany(f => f.Warnings).ToList());
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file or directory.", path);
        var r = RnaFile.Read(path);
        return new RnaDataSet(path, r.Records.ToList(), new List<SkippedFile>(), r.Warnings.ToList());
    }

    /// <summary>Reads several files or directories and concatenates their records in order.</summary>
    public static RnaDataSet Load(IReadOnlyList<string> paths)
    {
        if (paths.Count == 1) return Load(paths[0]);
        var parts = paths.Select(p => Load(p)).ToList();
        return new RnaDataSet(string.Join(" + ", paths), parts.SelectMany(p => p.Records).ToList(),
            parts.SelectMany(p => p.Skipped).ToList(), parts.SelectMany(p => p.Warnings).ToList());
    }

    /// <summary>Writes the skipped files and warnings, one line each.</summary>
    public void Report(TextWriter log)
    {
        foreach (var s in Skipped) log.WriteLine($"skipped {s.Path}: {s.Reason}");
        foreach (var w in Warnings) log.WriteLine($"warning: {w}");
    }
}

/// <summary>
/// Settings of <see cref="RnaTrainRun"/> (the <c>equisharp rna train</c> command), recorded in the run directory as
/// <c>run.json</c>; each recorded option carries its command-line name and what a resume does when it is given again
/// (<see cref="RunOptions"/>).
/// </summary>
public sealed record RnaTrainRunOptions
{
    /// <summary>Training data: one or more files or directories (<c>--train</c> repeated), read in order and concatenated.</summary>
    [RunOption("--train", ResumePolicy.Refused)] public string[] TrainPaths { get; init; } = Array.Empty<string>();
    [RunOption("--valid", ResumePolicy.Refused)] public string? ValidPath { get; init; }
    /// <summary>Reuse the dev split stored in this file (e.g. another model's dev-split.json) instead of drawing one.</summary>
    [RunOption("--dev-split", ResumePolicy.Refused)] public string? DevSplitFile { get; init; }
    [RunOption("--dev-fraction", ResumePolicy.Refused)] public double DevFraction { get; init; } = 0.1;
    /// <summary>Dev split, data order and initialisation.</summary>
    [RunOption("--seed", ResumePolicy.Refused)] public int Seed { get; init; } = 1;
    [RunOption("--model", ResumePolicy.Refused)] public string Model { get; init; } = "scnn";
    /// <summary>Architecture size: "paper" or "small" (<see cref="RnaModelConfig.Named"/>).</summary>
    [RunOption("--size", ResumePolicy.Refused)] public string Size { get; init; } = "paper";
    [RunOption("--activation", ResumePolicy.Refused)] public PairActivation Activation { get; init; } = PairActivation.ReLU;
    /// <summary>Kernel initialisation, glorot or authors (<see cref="RnaModelConfig.Init"/>).</summary>
    [RunOption("--init", ResumePolicy.Refused)] public string Init { get; init; } = "glorot";
    /// <summary>Batch-norm momentum in PyTorch's convention (Keras' 0.99 is 0.01 here).</summary>
    [RunOption("--bn-momentum", ResumePolicy.Refused)] public double BnMomentum { get; init; } = PairNormSettings.Default.Momentum;
    [RunOption("--bn-eps", ResumePolicy.Refused)] public double BnEps { get; init; } = PairNormSettings.Default.Eps;
    /// <summary>Entries of the CNN's batch-norm statistics: the whole block, or the map mirrored from its supervised upper triangle.</summary>
    [RunOption("--cnn-norm-stats", ResumePolicy.Refused)] public PairNormStatistics CnnNormStatistics { get; init; } = PairNormStatistics.WholeBlock;
    /// <summary>Where the output logits start: 0, or the logit of the pair base rate of the first crops.</summary>
    [RunOption("--output-bias", ResumePolicy.Refused)] public OutputBias OutputBias { get; init; } = OutputBias.Zero;
    /// <summary>Dev windows scored every epoch: prefixes, or random windows stored in the run directory.</summary>
    [RunOption("--dev-window", ResumePolicy.Refused)] public DevWindowKind DevWindow { get; init; } = DevWindowKind.Prefix;

    [RunOption("--crop", ResumePolicy.Warned)] public int Crop { get; init; } = 128;
    /// <summary>Crop curriculum "CROP:STEP,…" (<see cref="Training.CropSchedule"/>); overrides <see cref="Crop"/> when given.</summary>
    [RunOption("--crop-schedule", ResumePolicy.Warned)] public string? CropSchedule { get; init; }
    [RunOption("--batch", ResumePolicy.Warned)] public int BatchSize { get; init; } = 10;
    /// <summary>Batching: "random" (records in shuffled order) or "length" (similar lengths together, <see cref="RnaTrainingOptions.LengthBuckets"/>).</summary>
    [RunOption("--batching", ResumePolicy.Warned)] public string Batching { get; init; } = "random";
    [RunOption("--lr", ResumePolicy.Warned)] public double LearningRate { get; init; } = 2e-3;
    [RunOption("--l2", ResumePolicy.Warned)] public double L2 { get; init; } = 1e-5;
    [RunOption("--pos-weight", ResumePolicy.Warned)] public double PositiveWeight { get; init; } = 5;
    [RunOption("--patience", ResumePolicy.Warned)] public int? Patience { get; init; } = 5;
    /// <summary>Dev metric that selects the best epoch and drives early stopping (acc, f1, mcc, ppv, sen).</summary>
    [RunOption("--select", ResumePolicy.Refused)] public string Select { get; init; } = "acc";
    /// <summary>Clip the gradients' global norm to this before each step (null = no clipping).</summary>
    [RunOption("--clip-grad", ResumePolicy.Warned)] public double? ClipGradientNorm { get; init; }
    [RunOption("--dev-max-length", ResumePolicy.Warned)] public int DevMaxLength { get; init; } = 256;
    [RunOption("--threshold", ResumePolicy.Warned)] public float Threshold { get; init; } = 0.5f;
    [RunOption("--min-hairpin", ResumePolicy.Warned)] public int MinHairpin { get; init; }
    [RunOption("--canonical", ResumePolicy.Warned)] public bool Canonical { get; init; }

    [RunOption("--epochs", ResumePolicy.Free)] public int Epochs { get; init; } = 30;
    [RunOption("--max-steps", ResumePolicy.Free)] public long? MaxSteps { get; init; }
    /// <summary>Compute budget in CPU-hours over every session of the run (<see cref="TrainerOptions.MaxCpuHours"/>).</summary>
    [RunOption("--max-cpu-hours", ResumePolicy.Free)] public double? MaxCpuHours { get; init; }
    [RunOption("--device", ResumePolicy.Free)] public string DeviceName { get; init; } = "cpu";
    [RunOption("--tile", ResumePolicy.Free)] public int TileSize { get; init; } = 256;
    /// <summary>Truncate --valid sequences for the final report (null = full length).</summary>
    [RunOption("--valid-max-length", ResumePolicy.Free)] public int? ValidMaxLength { get; init; }
    /// <summary>Pair maps during training: dense, packed (SCNN only), or auto (packed where it measured faster, see <see cref="UsePackedMaps"/>).</summary>
    [RunOption("--maps", ResumePolicy.Free)] public PairMaps Maps { get; init; } = PairMaps.Auto;
    [RunOption("--checkpoint-every", ResumePolicy.Free)] public long? CheckpointEvery { get; init; }
    [RunOption("--checkpoint-minutes", ResumePolicy.Free)] public double? CheckpointMinutes { get; init; } = CheckpointCadence.DefaultMinutes;

    /// <summary>The run directory (not recorded: it is where the record is).</summary>
    [JsonIgnore] public string OutDir { get; init; } = "";
    /// <summary>Continue the run in <see cref="OutDir"/> with its recorded options.</summary>
    [JsonIgnore] public bool Resume { get; init; }

    [JsonIgnore] public RnaModelConfig Config => RnaModelConfig.Named(Size) with
    {
        Activation = Activation, Init = Init, Norm = new PairNormSettings { Eps = BnEps, Momentum = BnMomentum, Statistics = CnnNormStatistics },
    };
    [JsonIgnore] public Device Device => device(DeviceName);
    [JsonIgnore] public CheckpointCadence Checkpoints => new() { EverySteps = CheckpointEvery, EveryMinutes = CheckpointMinutes };
    [JsonIgnore] public RnaTrainingOptions Training => new()
    {
        Crop = Crop, CropSchedule = CropSchedule is string c ? global::EquiSharp.Applications.Rna.Training.CropSchedule.Parse(c) : null, BatchSize = BatchSize, LengthBuckets = Batching == "length", LearningRate = LearningRate, L2 = L2, PositiveWeight = PositiveWeight, DevMaxLength = DevMaxLength,
        Decoder = new GreedyDecoderOptions { Threshold = Threshold, MinHairpinLoop = MinHairpin, CanonicalOnly = Canonical },
    };

    /// <summary>Whether training runs on packed maps (<see cref="PairMapPolicy.UsePacked"/> at the training crop).</summary>
    public bool UsePackedMaps(bool symmetric) => PairMapPolicy.UsePacked(Maps, symmetric, Training.Crops.Initial);

    /// <summary>
    /// The options of a run directory from before run.json: model.json's variant, architecture and the
    /// hyperparameters it recorded (data paths, seed, crop, batch, learning rate, …).
    /// </summary>
    public static RnaTrainRunOptions FromModelSpec(RnaModelSpec spec)
    {
        var t = spec.Training;
        string S(string k, string d) => t.TryGetValue(k, out var v) ? v : d;
        double D(string k, double d) => double.TryParse(S(k, ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : d;
        int I(string k, int d) => int.TryParse(S(k, ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : d;
        var defaults = new RnaTrainRunOptions();
        string size = new[] { "paper", "small" }.FirstOrDefault(n => RnaModelSpec.From(spec.Model, RnaModelConfig.Named(n) with { Activation = spec.Activation })
            is var named && JsonSerializer.Serialize(named.Stages) == JsonSerializer.Serialize(spec.Stages) && named.LstmUnits == spec.LstmUnits
            && named.EncoderChannels == spec.EncoderChannels && named.SkipChannels == spec.SkipChannels && named.DenseFeatures == spec.DenseFeatures) ?? "custom";
        return defaults with
        {
            TrainPaths = S("train", "") is "" ? Array.Empty<string>() : new[] { S("train", "") }, ValidPath = S("valid", "") is "" ? null : S("valid", ""), Seed = I("seed", defaults.Seed),
            Model = spec.Model, Size = size, Activation = spec.Activation,
            Crop = I("crop", defaults.Crop), BatchSize = I("batch", defaults.BatchSize), LearningRate = D("lr", defaults.LearningRate),
            L2 = D("l2", defaults.L2), PositiveWeight = D("pos-weight", defaults.PositiveWeight), DevMaxLength = I("dev-max-length", defaults.DevMaxLength),
            DevFraction = D("dev-fraction", defaults.DevFraction), Epochs = I("epochs", defaults.Epochs),
            Patience = S("patience", "") == "none" ? null : I("patience", defaults.Patience ?? 5),
        };
    }
}

/// <summary>Result of a training run.</summary>
public sealed record RnaTrainRunResult(TrainingResult Fit, long Parameters, PairScoreSummary? Valid, string OutDir);

/// <summary>
/// The whole <c>rna train</c> job: read data, split dev deterministically, build (or rebuild on resume) the model,
/// train with the shared <see cref="Trainer"/> (dev selection and early stopping), plot the curves, and report
/// full-length PPV / sensitivity / accuracy / F1 on --valid once at the end, with the dev-selected weights.
/// </summary>
public static class RnaTrainRun
{
    public const string ValidReportName = "valid-report.txt";

    /// <summary>
    /// Runs (or, with <see cref="RnaTrainRunOptions.Resume"/>, continues) a training run. On resume the options
    /// recorded in the run directory apply, except those named in <paramref name="givenOptions"/> (given again on the
    /// command line), which follow their <see cref="ResumePolicy"/>. Every file of the checkpoint is checked before
    /// anything in the directory is written.
    /// </summary>
    public static RnaTrainRunResult Run(RnaTrainRunOptions o, ITrainingProgress progress, IReadOnlySet<string>? givenOptions = null)
    {
        Runtime.PhaseLog.Mark("start-up");
        var log = new ProgressWriter(progress);
        if (o.Resume) o = ResumeOptions(o, givenOptions ?? new HashSet<string>(), log);
        else if (o.TrainPaths.Length == 0) throw new ArgumentException("--train is required (or --resume DIR to continue a run).");
        var run = RunDirectory.Open(o.OutDir, o.Resume);
        var data = RnaDataSet.Load(o.TrainPaths);
        data.Report(log);
        if (data.Records.Count == 0) throw new InvalidDataException($"{data.Source}: no training records.");

        var spec = o.Resume ? RnaModelSpec.Load(o.OutDir) : RnaModelSpec.From(o.Model, o.Config) with { Training = Describe(o) };
        var split = run.DevSplit(data.Records.Select(r => r.Name).ToList(), o.Seed, o.DevFraction, o.DevSplitFile);
        var (train, dev) = split.Apply(data.Records);
        var devWindows = o.DevWindow == DevWindowKind.Prefix ? RnaDevWindows.Prefixes(dev, o.DevMaxLength)
            : o.Resume ? RnaDevWindows.Load(o.OutDir, dev) : RnaDevWindows.Draw(dev, o.DevMaxLength, split.Seed);
        if (o.DevWindow == DevWindowKind.Random && !o.Resume) devWindows.Save(o.OutDir);

        manual_seed(o.Seed);
        var model = spec.Build(o.Device);
        model.PackedMaps = o.UsePackedMaps(spec.Symmetric);
        if (!o.Resume) { spec = spec with { Parameters = model.ParameterCount }; spec.Save(o.OutDir); }
        if (o.OutputBias == OutputBias.BaseRate && !o.Resume)
        {
            double rate = PairBaseRate.OfCrops(train, o.Training.Crops.Initial);
            model.InitialiseOutputBias(PairBaseRate.Logit(rate));
            log.WriteLine(FormattableString.Invariant($"output bias: logit {PairBaseRate.Logit(rate):0.000} (pair rate {rate:0.00000} of {o.Training.Crops.Initial}-nt crops)"));
        }
        string name = spec.Symmetric ? "SCNN" : "CNN";
        log.WriteLine($"{name}: {RunDirectory.FreeParameters(model.ParameterCount, RnaParameterCounts.KerasEquivalent(model), "in Keras' convention: one LSTM bias per gate")}; " +
            $"activation {spec.Activation}; {(model.PackedMaps ? "packed" : "dense")} pair maps; train {train.Count} records, dev {dev.Count} (seed {split.Seed}), crops {o.Training.Crops}, batch {o.Training.BatchSize}");
        log.WriteLine("  " + string.Join(", ", RnaParameterCounts.ByComponent(model).Select(c => $"{c.Component} {c.Count}")));

        log.WriteLine(FormattableString.Invariant($"dev windows: {o.DevWindow.ToString().ToLowerInvariant()} {o.DevMaxLength} nt, holding {devWindows.PairCoverage(dev):P1} of the dev pairs"));
        var task = new RnaTrainingTask(model, train, dev, o.Training with { DevWindows = devWindows.Windows }, o.Device);
        run.VerifyCheckpoint(model, progress);
        run.Write(RunOptions.File<RnaTrainRunOptions>(), o);
        // parsing left garbage on the managed heap that would stay resident through training (measured: 274 -> 223 MB RSS)
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Runtime.PhaseLog.Mark("data, split, model, base rate");
        var optimizer = Optimizers.Adam(model.parameters(), o.Training.LearningRate, weightDecay: o.Training.L2);
        var fit = run.Train(task, optimizer, new TrainerOptions
        {
            Epochs = o.Epochs, MaxSteps = o.MaxSteps, MaxCpuHours = o.MaxCpuHours, Seed = o.Seed, Patience = o.Patience, Title = $"rna {name.ToLowerInvariant()}", Checkpoints = o.Checkpoints,
            Select = SelectionMetric.Parse(o.Select), ClipGradientNorm = o.ClipGradientNorm,
        }, progress, $"{name} on {string.Join(" + ", o.TrainPaths.Select(Path.GetFileName))}: train loss and dev metrics (dev = first {o.Training.DevMaxLength} nt)");

        Runtime.PhaseLog.Mark("checkpoints, curves");
        PairScoreSummary? valid = null;
        string stamp = FormattableString.Invariant($"# {o.ValidPath} after step {fit.State.Step}");
        if (o.ValidPath is not null && fit.Completed)
        {
            if (run.HasReport(ValidReportName, stamp)) log.WriteLine($"final report for step {fit.State.Step} already in {run.File(ValidReportName)}");
            else
            {
                // the training steps' kept blocks do not fit the report's full-length maps: hand them back first
                GC.Collect();
                Runtime.NativeAllocator.ReturnFreedMemory();
                valid = WriteValidReport(o, run, model, stamp, log);
            }
            Runtime.PhaseLog.Mark("final report");
        }
        return new RnaTrainRunResult(fit, model.ParameterCount, valid, o.OutDir);
    }

    /// <summary>
    /// Scores --valid full length (or its first --valid-max-length nt) with the dev-selected weights into valid-report.txt.
    /// The trained model takes them (no second model is built: building the paper network's tied kernels is ≈ 0.1 s).
    /// </summary>
    private static PairScoreSummary WriteValidReport(RnaTrainRunOptions o, RunDirectory run, RnaPairModel model, string stamp, TextWriter log)
    {
        var validData = RnaDataSet.Load(o.ValidPath!);
        validData.Report(log);
        var weights = run.LoadSelectedWeights(model);
        log.WriteLine($"final report on {o.ValidPath} ({validData.Records.Count} records, {(o.ValidMaxLength is int m ? $"first {m} nt" : "full length")}) with {weights.Folder}");
        var preds = RnaPredictor.Evaluate(model, validData.Records, o.Training.Decoder, o.Device, o.ValidMaxLength,
            new TiledInferenceOptions { TileSize = o.TileSize }, (p, _) => log.WriteLine(FormatRow(p)));
        var valid = PairMetrics.Average(preds.Select(p => p.Scores));
        run.WriteReport(ValidReportName, stamp + "\n" + Table(preds) + FormatMean(valid) + "\n");
        log.WriteLine(FormatMean(valid));
        return valid;
    }

    /// <summary>
    /// The options of a resumed run: those recorded in its <c>run.json</c> (or, for directories from before it, in
    /// model.json), with the ones given again applied by their <see cref="ResumePolicy"/>.
    /// </summary>
    private static RnaTrainRunOptions ResumeOptions(RnaTrainRunOptions given, IReadOnlySet<string> givenNames, TextWriter log)
    {
        string dir = given.OutDir;
        var recorded = RunOptions.Load<RnaTrainRunOptions>(dir);
        if (recorded is null)
        {
            if (!File.Exists(Path.Combine(dir, RnaModelSpec.FileName)))
                throw new FileNotFoundException($"{dir}: not a run directory (no {RunOptions.FileName} or {RnaModelSpec.FileName}); start a run there with --out {dir}.");
            recorded = RnaTrainRunOptions.FromModelSpec(RnaModelSpec.Load(dir));
            // model.json recorded data paths as typed, relative to a directory it does not name: paths given again win
            if (givenNames.Contains("--train")) recorded = recorded with { TrainPaths = given.TrainPaths };
            if (givenNames.Contains("--valid")) recorded = recorded with { ValidPath = given.ValidPath };
        }
        var o = RunOptions.Resume(recorded, given, givenNames, log.WriteLine) with { OutDir = dir, Resume = true };
        if (o.TrainPaths.Length == 0) throw new ArgumentException($"{dir}: the run does not record its training data; give --train.");
        return o;
    }

    private static Dictionary<string, string> Describe(RnaTrainRunOptions o) => new()
    {
        ["train"] = string.Join(Path.PathSeparator, o.TrainPaths), ["valid"] = o.ValidPath ?? "", ["seed"] = o.Seed.ToString(CultureInfo.InvariantCulture),
        ["crop"] = o.Training.Crop.ToString(CultureInfo.InvariantCulture), ["batch"] = o.Training.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["lr"] = o.Training.LearningRate.ToString("R", CultureInfo.InvariantCulture), ["l2"] = o.Training.L2.ToString("R", CultureInfo.InvariantCulture),
        ["pos-weight"] = o.Training.PositiveWeight.ToString("R", CultureInfo.InvariantCulture),
        ["dev-max-length"] = o.Training.DevMaxLength.ToString(CultureInfo.InvariantCulture),
        ["dev-fraction"] = o.DevFraction.ToString("R", CultureInfo.InvariantCulture),
        ["epochs"] = o.Epochs.ToString(CultureInfo.InvariantCulture), ["patience"] = o.Patience?.ToString(CultureInfo.InvariantCulture) ?? "none",
    };

    /// <summary>One per-sequence line: name, length, ppv, sen, acc, f1, mcc.</summary>
    public static string FormatRow(RnaPrediction p) => string.Create(CultureInfo.InvariantCulture,
        $"{p.Record.Name,-40} {p.Record.Length,6} {p.Scores.Ppv,7:0.0000} {p.Scores.Sensitivity,7:0.0000} {p.Scores.Accuracy,7:0.0000} {p.Scores.F1,7:0.0000} {p.Scores.Mcc,7:0.0000} {p.Seconds,8:0.0}");

    public static string Header => $"{"name",-40} {"length",6} {"ppv",7} {"sen",7} {"acc",7} {"f1",7} {"mcc",7} {"seconds",8}";

    /// <summary>The summary line every RNA evaluation ends with.</summary>
    public static string FormatMean(PairScoreSummary s) => string.Create(CultureInfo.InvariantCulture,
        $"mean ppv={s.Ppv:0.0000} sen={s.Sensitivity:0.0000} acc={s.Accuracy:0.0000} f1={s.F1:0.0000} mcc={s.Mcc:0.0000} n={s.Count}");

    public static string Table(IEnumerable<RnaPrediction> preds)
    {
        var sb = new StringBuilder();
        sb.Append(Header).Append('\n');
        foreach (var p in preds) sb.Append(FormatRow(p)).Append('\n');
        return sb.ToString();
    }

    /// <summary>Routes log lines through the progress display so they do not break a live bar.</summary>
    private sealed class ProgressWriter(ITrainingProgress progress) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void WriteLine(string? value) => progress.Message(value ?? "");
        public override void Write(char value) { }
    }
}
