using System.Globalization;
using System.Text.Json;
using EquiSharp.Applications.Dna.Data;
using EquiSharp.Applications.Dna.Models;
using EquiSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Dna.Training;

/// <summary>Settings of one DNA training run (defaults: §3.4.1).</summary>
public sealed record DnaTrainOptions
{
    public required DnaDataSet Data { get; init; }
    public required string OutDir { get; init; }
    /// <summary>"rc" or "standard".</summary>
    public string Kind { get; init; } = "rc";
    public int Filters { get; init; } = 20;
    /// <summary>"simulated" (§3.4.1) or "chipseq" (§3.4.2, single task).</summary>
    public string Architecture { get; init; } = "simulated";
    public bool Augment { get; init; }
    /// <summary>Train on this fraction of the training split (seeded, nested subsets); validation and test are unchanged.</summary>
    public double TrainFraction { get; init; } = 1.0;
    public int Seed { get; init; } = 1;
    public long? MaxSteps { get; init; }
    /// <summary>Compute budget over every session of the run (<see cref="TrainerOptions.MaxCpuHours"/>).</summary>
    public double? MaxCpuHours { get; init; }
    public int MaxEpochs { get; init; } = 500;
    public int Patience { get; init; } = 10;
    public int SamplesPerEpoch { get; init; } = 5000;
    public int BatchSize { get; init; } = 500;
    public double LearningRate { get; init; } = 1e-3;
    public double[]? PositiveWeight { get; init; }
    public bool Resume { get; init; }
    public Device Device { get; init; } = CPU;
}

/// <summary>What a finished run measured on the test split with its best validation weights.</summary>
public sealed record DnaTestReport(string Kind, int Filters, bool Augment, int Seed, long Parameters, int BestEpoch, long Steps,
    double Seconds, double AuRoc, double AuPrc, Dictionary<string, double> PerTask, double MaxRcGap)
{
    /// <summary>Fraction of the training split used (reports written before the option existed: 1).</summary>
    public double TrainFraction { get; init; } = 1.0;
}

/// <summary>
/// One DNA training run: model from the spec, Adam, the shared <see cref="Trainer"/> (checkpoints, best weights, resume,
/// early stopping on mean validation auROC), then test-split scores of the best weights (metrics.json), and curves.png.
/// </summary>
public static class DnaTrainRun
{
    public const string MetricsFile = "metrics.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static DnaTestReport? Run(DnaTrainOptions o, ITrainingProgress progress)
    {
        var data = o.Data;
        var run = RunDirectory.Open(o.OutDir, o.Resume);
        var spec = o.Resume ? DnaModelSpec.Load(o.OutDir) : NewSpec(o);
        if (!spec.TaskNames.SequenceEqual(data.TaskNames) || spec.SequenceLength != data.SequenceLength)
            throw new ArgumentException($"{o.OutDir}: the stored model takes tasks [{string.Join(", ", spec.TaskNames)}] at length {spec.SequenceLength}; the data has [{string.Join(", ", data.TaskNames)}] at length {data.SequenceLength}.");

        manual_seed(o.Seed);
        using var model = new DnaConvNet(spec, o.Device);
        Directory.CreateDirectory(o.OutDir);
        if (!o.Resume) spec.Save(o.OutDir);
        var task = new DnaTrainingTask(model, data, o.Device, o.Seed, spec.TrainedWithAugmentation, o.SamplesPerEpoch, o.BatchSize, o.PositiveWeight, spec.TrainFraction);
        progress.Message($"{model}; train {task.TrainIndices.Length}{(spec.TrainFraction < 1 ? string.Create(CultureInfo.InvariantCulture, $" ({spec.TrainFraction:0.###} of {data.Indices(DnaDataSet.Train).Length})") : "")}, valid {data.Indices(DnaDataSet.Valid).Length}, test {data.Indices(DnaDataSet.Test).Length}" +
                         (spec.TrainedWithAugmentation ? "; reverse-complement augmentation" : ""));
        var fit = run.Train(task, Optimizers.Adam(model.parameters(), o.LearningRate), new TrainerOptions
        {
            Epochs = o.MaxEpochs, MaxSteps = o.MaxSteps, MaxCpuHours = o.MaxCpuHours, Seed = o.Seed, Patience = o.Patience, Title = $"dna {spec.Kind}-{spec.Filters}",
        }, progress, $"{spec.Kind} model, {spec.Filters} filters: train loss and validation auROC/auPRC");
        if (fit.Interrupted || fit.State.History.Count == 0) return null;

        var (best, _) = DnaModelStore.Load(o.OutDir, o.Device);
        using (best)
        {
            var test = data.Indices(DnaDataSet.Test);
            var scores = DnaEvaluation.Score(best, data, test, o.Device);
            using var sel = torch.tensor(test);
            using var codes = data.Codes.index_select(0, sel);
            var report = new DnaTestReport(spec.Kind, spec.Filters, spec.TrainedWithAugmentation, o.Seed, model.FreeParameterCount, fit.State.BestEpoch, fit.State.Step,
                fit.State.TrainSeconds, scores.MeanAuRoc, scores.MeanAuPrc, scores.AsMetrics(), DnaEvaluation.MaxReverseComplementGap(best, codes, o.Device))
                { TrainFraction = spec.TrainFraction };
            run.WriteReport(MetricsFile, JsonSerializer.Serialize(report, Json));
            foreach (var line in scores.Table()) progress.Message(line);
            progress.Message(string.Create(CultureInfo.InvariantCulture,
                $"best epoch {fit.State.BestEpoch}, {fit.State.Step} steps, {fit.State.TrainSeconds:0.0} s; test max |p(x) - p(rc(x))| = {report.MaxRcGap:0.###e+00}"));
            return report;
        }
    }

    /// <summary>The architecture of a new run (§3.4.1 simulated or §3.4.2 ChIP-seq) for the data's tasks and length.</summary>
    private static DnaModelSpec NewSpec(DnaTrainOptions o) => o.Architecture switch
    {
        "simulated" => DnaModelSpec.Simulated(o.Kind, o.Filters, o.Data.TaskNames, o.Data.SequenceLength),
        "chipseq" => o.Data.TaskNames.Length == 1 ? DnaModelSpec.ChipSeq(o.Kind, o.Filters, o.Data.TaskNames[0], o.Data.SequenceLength)
            : throw new ArgumentException($"the ChIP-seq architecture has one output; the labels have {o.Data.TaskNames.Length} tasks."),
        _ => throw new ArgumentException($"unknown architecture '{o.Architecture}' (expected simulated or chipseq)."),
    } with { TrainedWithAugmentation = o.Augment, TrainFraction = o.TrainFraction };

    /// <summary>The test report of a finished run directory.</summary>
    public static DnaTestReport ReadReport(string dir)
    {
        string path = Path.Combine(dir, MetricsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{dir}: no {MetricsFile} (the run has not finished; `equisharp dna train --resume` completes it).");
        try { return JsonSerializer.Deserialize<DnaTestReport>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty report."); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a DNA test report ({e.Message})", e); }
    }
}
