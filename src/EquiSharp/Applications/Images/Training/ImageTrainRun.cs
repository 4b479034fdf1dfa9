using System.Globalization;
using System.Text;
using EquiSharp.Applications.Images.Formats;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Layers.Group;
using EquiSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Images.Training;

/// <summary>Settings of an image-classifier run (<c>mnist train</c>, <c>cifar train</c>); stored as <c>train.json</c> so a resumed run uses the same.</summary>
public sealed record ImageTrainSettings
{
    public required string DataPath { get; init; }
    /// <summary>What <see cref="DataPath"/> holds (<see cref="ImageDataSet.Load"/>); absent in runs from before CIFAR-10: rotated MNIST.</summary>
    public string Dataset { get; init; } = ImageDataSet.RotatedMnistKind;
    public string Optimizer { get; init; } = "sgd";
    /// <summary>Learning rate; null = 0.01 for SGD (the p4/p4m paper's best), 0.001 for Adam.</summary>
    public double? LearningRate { get; init; }
    public double Momentum { get; init; } = 0.5;
    public int BatchSize { get; init; } = 64;
    public int Seed { get; init; } = 1;

    public double EffectiveLearningRate => LearningRate ?? (Optimizer == "adam" ? 0.001 : 0.01);
    public const string FileName = "train.json";

    /// <summary>train.json (format 2: with its version; format 1, from before run directories, has the same fields).</summary>
    public static VersionedJsonFile<ImageTrainSettings> File { get; } = new(FileName, 2, "training settings", new() { WriteIndented = true });
}

/// <summary>Shuffled minibatches of the training split, cross-entropy loss, dev accuracy for model selection.</summary>
public sealed class ImageTrainingTask : ITrainingTask<long[]>, IDisposable
{
    private readonly Tensor images, labels;
    private readonly LabelledImages dev;
    private readonly Device device;
    private readonly int batchSize;

    public nn.Module Model { get; }

    public ImageTrainingTask(nn.Module<Tensor, Tensor> model, LabelledImages train, LabelledImages dev, int batchSize, Device device)
    {
        if (batchSize <= 0) throw new ArgumentException($"--batch must be positive, got {batchSize}.");
        Model = model;
        (images, labels) = ImageEvaluation.ToTensors(train, device);
        this.dev = dev;
        this.device = device;
        this.batchSize = batchSize;
    }

    public IReadOnlyList<long[]> EpochBatches(int epoch, Random rng)
    {
        var order = Enumerable.Range(0, (int)labels.shape[0]).Select(i => (long)i).ToArray();
        rng.Shuffle(order);
        return order.Chunk(batchSize).ToList();
    }

    public Tensor Loss(long[] batch)
    {
        var index = tensor(batch, device: device);
        var logits = ((nn.Module<Tensor, Tensor>)Model).forward(images.index_select(0, index));
        return nn.functional.cross_entropy(logits, labels.index_select(0, index));
    }

    public EvalResult Evaluate()
    {
        var r = ImageEvaluation.Evaluate((nn.Module<Tensor, Tensor>)Model, dev, device);
        return new EvalResult(r.Accuracy, new Dictionary<string, double> { ["acc"] = r.Accuracy, ["loss"] = r.MeanLoss });
    }

    public void Dispose() { images.Dispose(); labels.Dispose(); }
}

/// <summary>
/// The <c>mnist train</c> job: build (or, on resume, rebuild from model.json / train.json) the model, train it with
/// the shared <see cref="Trainer"/> for a fixed number of epochs (best weights by dev accuracy, atomic checkpoints),
/// plot the curves and write the test accuracies (rotated and upright) of the best weights to report.txt.
/// </summary>
public static class ImageTrainRun
{
    public const string ReportName = "report.txt";

    public static TrainingResult Run(string model, ImageTrainSettings settings, string outDir, int epochs, long? maxSteps, bool resume,
        double dropout, bool batchNorm, Device device, ITrainingProgress progress, double? maxCpuHours = null)
    {
        var run = RunDirectory.Open(outDir, resume);
        if (resume) settings = run.Read(ImageTrainSettings.File, "equisharp mnist train");
        else if (settings.Optimizer is not ("sgd" or "adam")) throw new ArgumentException($"--optimizer {settings.Optimizer}: expected sgd or adam.");
        var spec = resume ? PlanarCnnSpec.Load(outDir) : PlanarCnnSpec.Preset(model, dropout, batchNorm);
        var data = ImageDataSet.Load(settings.Dataset, settings.DataPath);
        if (data.Split(ImageDataSet.Train).Channels != spec.InputChannels)
            throw new ArgumentException($"{spec.Model} takes {spec.InputChannels}-channel images; {settings.DataPath} holds {data.Title} with {data.Split(ImageDataSet.Train).Channels}.");
        if (!resume)
        {
            Directory.CreateDirectory(outDir);
            spec.Save(outDir);
            run.Write(ImageTrainSettings.File, settings);
        }

        manual_seed(settings.Seed);
        using var net = spec.Build(device);
        progress.Message(Describe(net, data, settings));
        using var task = new ImageTrainingTask(net, data.Split(ImageDataSet.Train), data.Split(ImageDataSet.Dev), settings.BatchSize, device);
        var optimizer = settings.Optimizer == "adam"
            ? Optimizers.Adam(net.parameters(), settings.EffectiveLearningRate)
            : Optimizers.Sgd(net.parameters(), settings.EffectiveLearningRate, momentum: settings.Momentum);
        var fit = run.Train(task, optimizer, new TrainerOptions { Epochs = epochs, MaxSteps = maxSteps, MaxCpuHours = maxCpuHours, Seed = settings.Seed, Patience = null, Title = $"{spec.Model} on {data.Title}" },
            progress, $"{spec.Model.ToUpperInvariant()} on {data.Title}: train loss, dev accuracy");
        if (fit.Interrupted) return fit;
        var (best, weights) = LoadTrained(outDir, device);
        using (best)
        {
            var report = new StringBuilder($"{spec.Model} ({best.FreeParameterCount} parameters), {weights}, after step {fit.State.Step}\n");
            foreach (var split in data.TestSplits)
            {
                var r = ImageEvaluation.Evaluate(best, data.Split(split), device);
                report.Append(string.Create(CultureInfo.InvariantCulture, $"{split}: accuracy={r.Accuracy:0.0000} ({r.Confusion.Correct}/{r.Confusion.Total})\n"));
            }
            run.WriteReport(ReportName, report.ToString());
            progress.Message(report.ToString().TrimEnd('\n'));
        }
        return fit;
    }

    /// <summary>The model of a run directory with its best (dev-selected) weights, or the latest checkpoint's if no epoch finished.</summary>
    public static (PlanarClassifier Model, string Weights) LoadTrained(string dir, Device device)
    {
        var net = PlanarCnnSpec.Load(dir).Build(device);
        try { return (net, RunDirectory.Existing(dir).LoadSelectedWeights(net).Describe("dev accuracy")); }
        catch { net.Dispose(); throw; }
    }

    private static string Describe(PlanarClassifier net, ImageDataSet data, ImageTrainSettings s) => string.Create(CultureInfo.InvariantCulture,
        $"{net.Spec.Model.ToUpperInvariant()} ({net.Group.Name}, width {net.Spec.Width}): {RunDirectory.FreeParameters(net.FreeParameterCount, net.DenseParameterCount(), "as a plain CNN")}; " +
        $"dropout {net.Spec.Dropout}, batch norm {(net.Spec.BatchNorm ? "on" : "off")}; {s.Optimizer} lr {s.EffectiveLearningRate}{(s.Optimizer == "sgd" ? $" momentum {s.Momentum}" : "")}, batch {s.BatchSize}, seed {s.Seed}; " +
        $"train {data.Split(ImageDataSet.Train).Count}, dev {data.Split(ImageDataSet.Dev).Count}");
}
