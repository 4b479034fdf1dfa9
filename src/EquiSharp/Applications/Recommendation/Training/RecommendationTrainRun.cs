using System.Globalization;
using System.Text.Json.Serialization;
using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.Applications.Recommendation.Models;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Recommendation.Training;

/// <summary>
/// Settings of <c>equisharp rec train</c>, recorded in the model directory as <c>run.json</c> (data path, format,
/// filters, split, seed, sizes and hyperparameters), so that <c>--resume DIR</c> alone continues a run and
/// <c>rec eval</c> rebuilds the split it was trained on. Each option carries its <see cref="ResumePolicy"/>.
/// </summary>
public sealed record RecommendationTrainRunOptions
{
    [RunOption("--data", ResumePolicy.Refused)] public string DataPath { get; init; } = "";
    [RunOption("--format", ResumePolicy.Refused)] public InteractionFormat Format { get; init; } = InteractionFormat.MovieLens100K;
    /// <summary>cosrec or scosrec.</summary>
    [RunOption("--model", ResumePolicy.Refused)] public string Model { get; init; } = "scosrec";
    /// <summary>Initialisation, data order, negatives and dropout (the split is chronological and takes no seed).</summary>
    [RunOption("--seed", ResumePolicy.Refused)] public int Seed { get; init; } = 1;
    [RunOption("--min-user-count", ResumePolicy.Refused)] public int MinUserInteractions { get; init; }
    [RunOption("--min-item-count", ResumePolicy.Refused)] public int MinItemInteractions { get; init; }
    [RunOption("--train-fraction", ResumePolicy.Refused)] public double TrainFraction { get; init; } = 0.7;
    [RunOption("--valid-fraction", ResumePolicy.Refused)] public double ValidationFraction { get; init; } = 0.1;
    /// <summary>L: previous items per instance, the side of the pair maps.</summary>
    [RunOption("--markov-order", ResumePolicy.Refused)] public int MarkovOrder { get; init; } = 5;
    /// <summary>T: next items per training instance.</summary>
    [RunOption("--targets", ResumePolicy.Refused)] public int Targets { get; init; } = 3;
    /// <summary>d: user and item embedding size.</summary>
    [RunOption("--dim", ResumePolicy.Refused)] public int EmbeddingDim { get; init; } = 50;

    [RunOption("--negatives", ResumePolicy.Warned)] public int Negatives { get; init; } = 3;
    [RunOption("--lr", ResumePolicy.Warned)] public double LearningRate { get; init; } = 1e-3;
    [RunOption("--l2", ResumePolicy.Warned)] public double L2 { get; init; } = 5e-6;
    [RunOption("--batch", ResumePolicy.Warned)] public int BatchSize { get; init; } = 512;
    /// <summary>Early stopping after this many epochs without a better validation MAP; null = run every epoch (a fixed budget).</summary>
    [RunOption("--patience", ResumePolicy.Warned)] public int? Patience { get; init; }

    [RunOption("--epochs", ResumePolicy.Free)] public int Epochs { get; init; } = 30;
    [RunOption("--max-steps", ResumePolicy.Free)] public long? MaxSteps { get; init; }
    /// <summary>Compute budget over every session of the run (<see cref="TrainerOptions.MaxCpuHours"/>).</summary>
    [RunOption("--max-cpu-hours", ResumePolicy.Free)] public double? MaxCpuHours { get; init; }
    [RunOption("--device", ResumePolicy.Free)] public string DeviceName { get; init; } = "cpu";
    [RunOption("--checkpoint-every", ResumePolicy.Free)] public long? CheckpointEvery { get; init; }
    [RunOption("--checkpoint-minutes", ResumePolicy.Free)] public double? CheckpointMinutes { get; init; } = CheckpointCadence.DefaultMinutes;

    /// <summary>The run directory (not recorded: it is where the record is).</summary>
    [JsonIgnore] public string OutDir { get; init; } = "";
    /// <summary>Continue the run in <see cref="OutDir"/> with its recorded options.</summary>
    [JsonIgnore] public bool Resume { get; init; }

    [JsonIgnore] public Device Device => device(DeviceName);
    [JsonIgnore] public CheckpointCadence Checkpoints => new() { EverySteps = CheckpointEvery, EveryMinutes = CheckpointMinutes };
    [JsonIgnore] public SplitFractions Fractions => new(TrainFraction, ValidationFraction);
    [JsonIgnore] public InteractionFilter Filter => new(MinUserInteractions, MinItemInteractions);
    [JsonIgnore] public RecommendationTrainingOptions Training => new()
    {
        MarkovOrder = MarkovOrder, Targets = Targets, NegativesPerInstance = Negatives, BatchSize = BatchSize, LearningRate = LearningRate, L2 = L2,
    };

    /// <summary>The model's sizes for a data set of <paramref name="log"/>'s users and items (dropout 0.5, blocks 128 and 256, fc 150).</summary>
    public CosRecConfig ConfigFor(InteractionLog log) =>
        new() { Users = log.UserCount, Items = log.ItemCount, EmbeddingDim = EmbeddingDim, MarkovOrder = MarkovOrder };

    /// <summary>Parses a model name as the CLI spells it.</summary>
    public static string ParseModel(string name) => name.Trim().ToLowerInvariant() switch
    {
        "cosrec" => "cosrec",
        "scosrec" => "scosrec",
        _ => throw new ArgumentException($"--model {name}: expected cosrec (plain convolutions) or scosrec (symmetric kernels)."),
    };

    /// <summary>Builds the named model.</summary>
    public static PairwiseSequenceRecommender Build(string model, CosRecConfig config, Device device) =>
        ParseModel(model) == "scosrec" ? new SCosRec(config, device) : new CosRec(config, device);
}

/// <summary>A trained model directory opened for evaluation or recommendation: options, data, split and the selected weights.</summary>
public sealed record RecommendationModelDirectory(RecommendationTrainRunOptions Options, ChronologicalSplit Split, PairwiseSequenceRecommender Model, string Weights)
    : IDisposable
{
    /// <summary>
    /// Opens <paramref name="dir"/>: reads its run.json, the data it was trained on (or <paramref name="dataPath"/>, read
    /// with the recorded format, filters and split, which must hold the same users and items), and loads the best
    /// weights (the latest checkpoint when no epoch has finished).
    /// </summary>
    public static RecommendationModelDirectory Open(string dir, string? dataPath, Device device)
    {
        var run = RunDirectory.Existing(dir);
        var options = run.Read(RunOptions.File<RecommendationTrainRunOptions>(), "equisharp rec train");
        var split = RecommendationTrainRun.LoadSplit(options with { DataPath = dataPath ?? options.DataPath });
        var vocabulary = RecommendationVocabulary.Load(dir);
        vocabulary?.Check(split.Log, dataPath ?? options.DataPath);
        var model = RecommendationTrainRunOptions.Build(options.Model, options.ConfigFor(split.Log), device);
        return new RecommendationModelDirectory(options, split, model, run.LoadSelectedWeights(model).Folder);
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>Result of a training run.</summary>
public sealed record RecommendationTrainRunResult(TrainingResult Fit, long Parameters, string OutDir);

/// <summary>
/// The whole <c>rec train</c> job: read and split the data, build (or rebuild on resume) CosRec or SCosRec, and train
/// with the shared <see cref="Trainer"/>: Adam with L2, reduce-on-plateau on validation MAP (factor 0.15, patience 3),
/// best weights by validation MAP, atomic checkpoints, curves.
/// </summary>
public static class RecommendationTrainRun
{
    /// <summary>The learning-rate schedule of CosRec's training: ×0.15 after 3 epochs without a better validation MAP.</summary>
    public static ReduceOnPlateau Schedule { get; } = new(Factor: 0.15, Patience: 3);

    /// <summary>The shared trainer's options for a run of <paramref name="epochs"/> epochs (selection and schedule on validation MAP).</summary>
    public static TrainerOptions TrainerOptionsFor(RecommendationTrainRunOptions o, int epochs, bool resume) => new()
    {
        Epochs = epochs, MaxSteps = o.MaxSteps, MaxCpuHours = o.MaxCpuHours, Seed = o.Seed, Patience = o.Patience, OutDir = o.OutDir, Resume = resume, Title = $"rec {o.Model}",
        Checkpoints = o.Checkpoints, Schedule = Schedule, Select = SelectionMetric.Parse("map"),
    };

    /// <summary>Reads the interactions named by the options and splits them chronologically.</summary>
    public static ChronologicalSplit LoadSplit(RecommendationTrainRunOptions o)
    {
        if (!File.Exists(o.DataPath)) throw new FileNotFoundException($"{o.DataPath}: no such file.", o.DataPath);
        var log = InteractionLog.Build(InteractionReader.Read(o.DataPath, o.Format), o.Filter);
        if (log.UserCount == 0) throw new InvalidDataException($"{o.DataPath}: no interactions{(o.MinUserInteractions + o.MinItemInteractions > 0 ? " left after the minimum-count filters" : "")}.");
        return ChronologicalSplit.Create(log, o.Fractions);
    }

    /// <summary>Free parameters of CosRec and SCosRec at the given sizes.</summary>
    public static (long CosRec, long SCosRec) ParameterCounts(CosRecConfig config)
    {
        using var plain = new CosRec(config);
        using var symmetric = new SCosRec(config);
        return (plain.FreeParameterCount, symmetric.FreeParameterCount);
    }

    /// <summary>
    /// Runs (or, with <see cref="RecommendationTrainRunOptions.Resume"/>, continues) a run. On resume the recorded
    /// options apply except those in <paramref name="givenOptions"/>, which follow their <see cref="ResumePolicy"/>;
    /// the checkpoint is checked before anything in the directory is written.
    /// </summary>
    public static RecommendationTrainRunResult Run(RecommendationTrainRunOptions o, ITrainingProgress progress, IReadOnlySet<string>? givenOptions = null)
    {
        var run = RunDirectory.Open(o.OutDir, o.Resume);
        if (o.Resume) o = run.ResumeOptions(o, givenOptions ?? new HashSet<string>(), progress.Message, "equisharp rec train");
        else if (o.DataPath.Length == 0) throw new ArgumentException("--data is required (or --resume DIR to continue a run).");
        else if (System.IO.File.Exists(run.File(RunOptions.FileName)))
            throw new IOException($"{o.OutDir} already holds a run; use --resume {o.OutDir} to continue it or choose another --out.");
        if (o.Epochs <= 0) throw new ArgumentException($"--epochs {o.Epochs}: expected a positive number.");
        if (o.MaxSteps is <= 0) throw new ArgumentException($"--max-steps {o.MaxSteps}: expected a positive number.");

        var split = LoadSplit(o);
        var log = split.Log;
        if (o.Resume) RecommendationVocabulary.Load(o.OutDir)?.Check(log, o.DataPath); // the recorded file must still number users and items the same way
        var config = o.ConfigFor(log);
        var counts = ParameterCounts(config);
        progress.Message(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(o.DataPath)}: {log.UserCount} users, {log.ItemCount} items, {log.InteractionCount} interactions " +
            $"({log.UsersRemoved} users and {log.ItemsRemoved} items removed by the filters, {split.SkippedUsers} users without training items skipped)"));
        progress.Message(string.Create(CultureInfo.InvariantCulture,
            $"free parameters at these sizes: CosRec {counts.CosRec:N0}, SCosRec {counts.SCosRec:N0} (training {o.Model})"));

        manual_seed(o.Seed);
        var model = RecommendationTrainRunOptions.Build(o.Model, config, o.Device);
        var task = new RecommendationTrainingTask(model, split, o.Training, o.Device);
        int stepsPerEpoch = (task.Instances.Count + o.BatchSize - 1) / o.BatchSize; // what EpochBatches makes, without drawing negatives
        progress.Message(string.Create(CultureInfo.InvariantCulture,
            $"{task.Instances.Count} training instances (L={o.MarkovOrder}, T={o.Targets}; {task.Instances.UsersWithoutInstances} users too short), " +
            $"{stepsPerEpoch} steps per epoch of batch {o.BatchSize}"));

        run.VerifyCheckpoint(model, progress);
        run.Write(RunOptions.File<RecommendationTrainRunOptions>(), o);
        RecommendationVocabulary.From(log).Save(o.OutDir);
        var fit = run.Train(task, task.CreateOptimizer(), TrainerOptionsFor(o, o.Epochs, resume: false), progress,
            $"{model.GetName()} on {Path.GetFileName(o.DataPath)} (seed {o.Seed}): train loss and validation ranking metrics");
        return new RecommendationTrainRunResult(fit, model.FreeParameterCount, o.OutDir);
    }
}
