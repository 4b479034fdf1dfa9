using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EquiSharp.Applications.Protein.Evaluation;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Models;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Protein.Training;

/// <summary>
/// Everything needed to rebuild and evaluate a trained contact model (<c>model.json</c> in its directory): variant,
/// split (folds, held-out fold, seed and the protein names of train / dev / test), the contact-potential table
/// estimated from the training proteins, the hyperparameters and the free-parameter count.
/// </summary>
public sealed record ContactRunSpec
{
    public const string FileName = "model.json";

    /// <summary>model.json (format 2: with its version; format 1, from before run directories, has the same fields).</summary>
    public static VersionedJsonFile<ContactRunSpec> File { get; } = new(FileName, 2, "contact model description", new() { WriteIndented = true });

    /// <summary>"scnn" or "cnn".</summary>
    public string Model { get; init; } = "scnn";
    [JsonIgnore] public bool Symmetric => ContactModel.ParseVariant(Model);
    public string FeaturesDir { get; init; } = "";
    public required ContactSplit Split { get; init; }
    public required ContactTrainingOptions Training { get; init; }
    public int Epochs { get; init; }
    public long Parameters { get; init; }
    /// <summary>The 21 × 21 contact potential of <see cref="ContactSplit.Train"/> (<see cref="ResiduePairContactPotential.Table"/>).</summary>
    public double[] Potential { get; init; } = [];

    [JsonIgnore] public ResiduePairContactPotential ContactPotential => ResiduePairContactPotential.FromTable(Potential);

    /// <summary>The description in <paramref name="dir"/>, checked (variant and potential table).</summary>
    public static ContactRunSpec Load(string dir)
    {
        var spec = RunDirectory.Existing(dir).Read(File, "equisharp protein train");
        try { _ = spec.Symmetric; _ = spec.ContactPotential; }
        catch (ArgumentException e) { throw new InvalidDataException($"{Path.Combine(dir, FileName)}: invalid model description ({e.Message}).", e); }
        return spec;
    }
}

/// <summary>Settings of <c>protein train</c>.</summary>
public sealed record ContactTrainRunOptions
{
    /// <summary>Directory of .features files; on resume null = the one the run was started with.</summary>
    public string? FeaturesDir { get; init; }
    public required string OutDir { get; init; }
    public string Model { get; init; } = "scnn";
    public int Folds { get; init; } = ContactSplit.DefaultFolds;
    public int Fold { get; init; }
    public int Seed { get; init; } = 1;
    public int Epochs { get; init; } = 40;
    public long? MaxSteps { get; init; }
    /// <summary>Compute budget over every session of the run (<see cref="TrainerOptions.MaxCpuHours"/>).</summary>
    public double? MaxCpuHours { get; init; }
    /// <summary>Continue the run in <see cref="OutDir"/>: its stored variant, split, potential and hyperparameters win; epochs and max-steps are the new budget.</summary>
    public bool Resume { get; init; }
    public ContactTrainingOptions Training { get; init; } = new();
    /// <summary>Checkpoints besides those at epoch ends.</summary>
    public CheckpointCadence Checkpoints { get; init; } = CheckpointCadence.Default;
    public Device Device { get; init; } = CPU;
}

/// <summary>Result of <c>protein train</c>: how training ended and the held-out report (null if training did not finish).</summary>
public sealed record ContactTrainRunResult(TrainingResult Fit, long Parameters, string? Report);

/// <summary>
/// The <c>protein train</c> job, kept in this one file so it can move onto the shared run directory: split the cached
/// proteins, estimate the contact potential from the training proteins, train with <see cref="Trainer.Fit"/> (atomic
/// checkpoints, <c>--resume</c>, best weights by dev score), plot the curves, and score the held-out fold full-length
/// with the best weights (<c>report.txt</c>).
/// </summary>
public static class ContactTrainRun
{
    public const string ReportName = "report.txt";

    public static ContactTrainRunResult Run(ContactTrainRunOptions o, ITrainingProgress progress)
    {
        var run = RunDirectory.Open(o.OutDir, o.Resume);
        ContactRunSpec? stored = o.Resume ? ContactRunSpec.Load(o.OutDir) : null;
        string featuresDir = o.FeaturesDir ?? stored?.FeaturesDir ?? throw new ArgumentException("--features DIR is required for a new run.");
        var all = ProteinFeatureFile.List(featuresDir).Select(ProteinFeatureFile.Read).ToDictionary(f => f.Name, StringComparer.Ordinal);
        var spec = stored ?? NewSpec(o, featuresDir, all);
        var missing = spec.Split.Train.Concat(spec.Split.Dev).Concat(spec.Split.Test).Where(n => !all.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"{featuresDir}: lacks {string.Join(", ", missing)} of the run in {o.OutDir}.");
        var potential = spec.ContactPotential;
        ContactExample[] Examples(IEnumerable<string> names) => names.Select(n => ContactExample.From(all[n], potential)).ToArray();

        manual_seed(spec.Split.Seed);
        var model = new ContactModel(spec.Symmetric, o.Device);
        model.PackedMaps = PairMapPolicy.UsePacked(PairMaps.Auto, spec.Symmetric, spec.Training.Crop);
        if (!o.Resume) run.Write(ContactRunSpec.File, spec = spec with { Parameters = model.ParameterCount });
        progress.Message(Describe(spec, model));

        var task = new ContactTrainingTask(model, Examples(spec.Split.Train), Examples(spec.Split.Dev), spec.Training, o.Device);
        var optimizer = Optimizers.Adam(model.parameters(), spec.Training.LearningRateFor(spec.Symmetric), weightDecay: spec.Training.L2);
        string name = spec.Symmetric ? "SCNN" : "CNN";
        var fit = run.Train(task, optimizer, new TrainerOptions
        {
            Epochs = o.Epochs, MaxSteps = o.MaxSteps, MaxCpuHours = o.MaxCpuHours, Seed = spec.Split.Seed, Patience = null, Checkpoints = o.Checkpoints,
            Title = $"protein {name.ToLowerInvariant()} fold {spec.Split.Fold}",
        }, progress, $"Contact{name} fold {spec.Split.Fold}/{spec.Split.Folds}: train loss and dev metrics ({string.Join(", ", spec.Split.Dev)})");
        if (!fit.Completed) return new ContactTrainRunResult(fit, model.ParameterCount, null);
        string report = EvaluateHeldOut(o.OutDir, featuresDir, o.Device);
        run.WriteReport(ReportName, report);
        return new ContactTrainRunResult(fit, model.ParameterCount, report);
    }

    /// <summary>A new run's description: the split of the cached proteins and the contact potential of its training proteins.</summary>
    private static ContactRunSpec NewSpec(ContactTrainRunOptions o, string featuresDir, Dictionary<string, ProteinFeatures> all)
    {
        var split = ContactSplit.Create(all.Keys, o.Folds, o.Fold, o.Seed);
        return new ContactRunSpec
        {
            Model = ContactModel.ParseVariant(o.Model) ? "scnn" : "cnn", FeaturesDir = Path.GetFullPath(featuresDir), Split = split,
            Training = o.Training, Epochs = o.Epochs,
            Potential = ResiduePairContactPotential.Estimate(split.Train.Select(n => all[n])).Table,
        };
    }

    /// <summary>Loads a trained model (best weights if any, else the latest checkpoint) in eval mode.</summary>
    public static (ContactModel Model, ContactRunSpec Spec) LoadModel(string dir, Device device)
    {
        var spec = ContactRunSpec.Load(dir);
        var model = new ContactModel(spec.Symmetric, device);
        if (spec.Parameters != 0 && spec.Parameters != model.ParameterCount)
            throw new InvalidDataException($"{Path.Combine(dir, ContactRunSpec.FileName)}: says {spec.Parameters} parameters but the rebuilt model has {model.ParameterCount}.");
        RunDirectory.Existing(dir).LoadSelectedWeights(model);
        return (model, spec);
    }

    /// <summary>
    /// Scores a trained model on its held-out fold (or on every protein of <paramref name="featuresDir"/> named in
    /// its split's test list), full length: the per-protein table and the mean lines (<see cref="ContactPrediction.Report"/>).
    /// </summary>
    public static string EvaluateHeldOut(string modelDir, string? featuresDir, Device device, Action<string>? onRow = null)
    {
        var (model, spec) = LoadModel(modelDir, device);
        using (model)
        {
            string dir = featuresDir ?? spec.FeaturesDir;
            var files = ProteinFeatureFile.List(dir).ToDictionary(p => Path.GetFileName(p)[..^ProteinFeatureFile.Extension.Length], StringComparer.Ordinal);
            var missing = spec.Split.Test.Where(n => !files.ContainsKey(n)).ToList();
            if (missing.Count > 0) throw new InvalidDataException($"{dir}: lacks the held-out protein(s) {string.Join(", ", missing)} of {modelDir}.");
            var potential = spec.ContactPotential;
            onRow?.Invoke(ContactPrediction.Header);
            var results = ContactPrediction.Evaluate(model, spec.Split.Test.Select(n => ContactExample.From(ProteinFeatureFile.Read(files[n]), potential)), device,
                onProtein: r => onRow?.Invoke(ContactPrediction.Row(r)));
            return ContactPrediction.Report(results);
        }
    }

    /// <summary>The run's first log line: variant, parameter counts of both models and their ratio, split and maps.</summary>
    private static string Describe(ContactRunSpec spec, ContactModel model)
    {
        long scnn, cnn;
        using (var other = new ContactModel(!spec.Symmetric, CPU)) (scnn, cnn) = spec.Symmetric ? (model.ParameterCount, other.ParameterCount) : (other.ParameterCount, model.ParameterCount);
        var s = spec.Split;
        return string.Create(CultureInfo.InvariantCulture,
            $"Contact{(spec.Symmetric ? "Scnn" : "Cnn")}: {RunDirectory.ParameterComparison("ContactScnn", scnn, "ContactCnn", cnn)}; " +
            $"{(model.PackedMaps ? "packed" : "dense")} pair maps; fold {s.Fold} of {s.Folds}: train {s.Train.Length}, dev {s.Dev.Length} ({string.Join(", ", s.Dev)}; seed {s.Seed}), " +
            $"held out {s.Test.Length}; crop {spec.Training.Crop}, batch {spec.Training.BatchSize}, lr {spec.Training.LearningRateFor(spec.Symmetric)}");
    }
}
