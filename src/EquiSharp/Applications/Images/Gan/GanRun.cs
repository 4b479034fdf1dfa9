using System.Globalization;
using System.Text;
using System.Text.Json;
using EquiSharp.Applications.Images.Formats;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Applications.Images.Gan;

/// <summary>Settings of a <c>mnist gan</c> run; stored as <c>gan.json</c> so a resumed run uses the same.</summary>
public sealed record GanSettings
{
    public const string FileName = "gan.json";
    public required string DataPath { get; init; }
    /// <summary>The discriminator: one of the rotated-MNIST classifiers (z2cnn, p4cnn, p4mcnn) with a single output (real vs generated).</summary>
    public string Discriminator { get; init; } = "p4cnn";
    public int BatchSize { get; init; } = 64;
    public int LatentSize { get; init; } = 64;
    /// <summary>Adam's learning rate for both networks (DCGAN's 2·10⁻⁴).</summary>
    public double LearningRate { get; init; } = 2e-4;
    /// <summary>Adam's β₁ for both networks (DCGAN's 0.5: with 0.9 the generator of a first run never left high-frequency noise).</summary>
    public double Beta1 { get; init; } = 0.5;
    /// <summary>A sample grid after epoch 1, every this many epochs, and after the last.</summary>
    public int SampleEvery { get; init; } = 2;
    public int Seed { get; init; } = 1;

    /// <summary>The discriminator's network: the classifier preset with one output and no dropout.</summary>
    public PlanarCnnSpec DiscriminatorSpec() => PlanarCnnSpec.Preset(Discriminator, batchNorm: DiscriminatorBatchNorm) with { Classes = 1 };

    /// <summary>
    /// Group batch norm in the discriminator. Off by default (tied biases instead): with it (and β₁ = 0.9) a first
    /// 10-epoch run's generator never got past high-frequency noise while D won outright; without it the same
    /// generator drew digit-like strokes after one epoch.
    /// </summary>
    public bool DiscriminatorBatchNorm { get; init; } = false;
}

/// <summary>
/// The <c>mnist gan</c> job: a <see cref="DigitGenerator"/> against a discriminator that is one of the rotated-MNIST
/// classifiers (P4CNN: invariant to 90° rotations, so it cannot tell a digit from its rotated copies; Z2CNN: the plain
/// CNN of the same size), trained on the rotated training images with the non-saturating GAN loss (Goodfellow et al.
/// 2014): per batch one discriminator step on real and generated images, then one generator step. Every epoch ends
/// with an atomic checkpoint of both networks and both optimizers (one folder, renamed into place), the loss curves
/// (losses.csv, losses.png) and, on the sampling epochs, a grid of 64 samples from fixed latent vectors.
/// </summary>
public static class GanRun
{
    public const string CheckpointName = "checkpoint", LossesName = "losses.csv";
    private const int SampleStream = 31, SampleCount = 64;

    public static TrainingState Run(GanSettings settings, string outDir, int epochs, long? maxSteps, bool resume, Device device, ITrainingProgress progress)
    {
        if (epochs <= 0) throw new ArgumentException($"--epochs {epochs}: expected a positive number.");
        string settingsPath = Path.Combine(outDir, GanSettings.FileName);
        if (resume) settings = ReadSettings(settingsPath);
        else
        {
            if (CheckpointDir(outDir) is not null) throw new IOException($"{outDir} already holds a GAN run; use --resume to continue it or choose another --out.");
            if (settings.BatchSize <= 0) throw new ArgumentException($"--batch must be positive, got {settings.BatchSize}.");
            if (settings.SampleEvery <= 0) throw new ArgumentException($"--sample-every must be positive, got {settings.SampleEvery}.");
            _ = settings.DiscriminatorSpec();   // an unknown name fails before anything is written
        }
        var train = RotatedMnist.Load(settings.DataPath).Split(RotatedMnist.Train);
        Directory.CreateDirectory(outDir);
        if (!resume) Checkpoint.WriteTextAtomic(settingsPath, JsonSerializer.Serialize(settings, new JsonSerializerOptions { WriteIndented = true }));

        manual_seed(settings.Seed);
        using var generator = new DigitGenerator(settings.LatentSize, device);
        using var discriminator = settings.DiscriminatorSpec().Build(device);
        var optG = Optimizers.Adam(generator.parameters(), settings.LearningRate, beta1: settings.Beta1);
        var optD = Optimizers.Adam(discriminator.parameters(), settings.LearningRate, beta1: settings.Beta1);
        var state = new TrainingState();
        if (resume)
        {
            string dir = CheckpointDir(outDir) ?? throw new FileNotFoundException($"{outDir}: no GAN checkpoint to resume from (expected {Path.Combine(outDir, CheckpointName)}/).");
            state = Checkpoint.Load(dir, generator, optG, restoreRng: true, name: "generator")!;
            Checkpoint.Load(dir, discriminator, optD, restoreRng: false, name: "discriminator");
            progress.Message($"resumed from {outDir} at epoch {state.Epoch + 1}, step {state.Step}");
        }
        progress.Message(string.Create(CultureInfo.InvariantCulture,
            $"GAN: generator {generator.parameters().Sum(p => p.numel()):N0} parameters; discriminator {discriminator}; Adam lr {settings.LearningRate} β1 {settings.Beta1}, batch {settings.BatchSize}, latent {settings.LatentSize}, seed {settings.Seed}; {train.Count} training images"));

        var (images, labels) = ImageEvaluation.ToTensors(train, device);
        labels.Dispose();   // a GAN ignores the digit labels
        using var fixedLatent = randn(new long[] { SampleCount, settings.LatentSize }, generator: new Generator((ulong)Seeds.Derive(settings.Seed, SampleStream, 0))).to(device);
        int stepsPerEpoch = (train.Count + settings.BatchSize - 1) / settings.BatchSize;
        long total = (long)stepsPerEpoch * epochs;
        if (maxSteps is long cap) total = Math.Min(total, cap);
        progress.Start($"mnist gan ({settings.Discriminator})", total, state.Step);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double secondsBefore = state.TrainSeconds;
        using (images)
            for (int epoch = state.Epoch; epoch < epochs; epoch++)
            {
                var order = Enumerable.Range(0, train.Count).Select(i => (long)i).ToArray();
                new Random(Trainer.EpochSeed(settings.Seed, epoch)).Shuffle(order);
                var batches = order.Chunk(settings.BatchSize).ToArray();
                for (int b = state.StepInEpoch; b < batches.Length; b++)
                {
                    if (maxSteps is long max && state.Step >= max)
                    {
                        state = state with { Epoch = epoch, StepInEpoch = b, TrainSeconds = secondsBefore + clock.Elapsed.TotalSeconds };
                        Save(outDir, generator, optG, discriminator, optD, state);
                        return state;
                    }
                    var losses = Step(generator, optG, discriminator, optD, images, batches[b], settings.LatentSize, device);
                    state = state with
                    {
                        Step = state.Step + 1, StepInEpoch = b + 1, EpochLossCount = state.EpochLossCount + 1,
                        EpochLossSum = state.EpochLossSum + losses.Discriminator,
                        Schedule = Accumulate(state.Schedule, losses),
                    };
                    progress.Step(state.Step, losses.Discriminator);
                }
                var record = EpochEnd(state, epoch + 1, secondsBefore + clock.Elapsed.TotalSeconds);
                state = state with
                {
                    Epoch = epoch + 1, StepInEpoch = 0, EpochLossSum = 0, EpochLossCount = 0, Schedule = new(),
                    History = state.History.Append(record).ToList(), TrainSeconds = secondsBefore + clock.Elapsed.TotalSeconds,
                    Finished = epoch + 1 == epochs, StopReason = epoch + 1 == epochs ? "epochs" : "",
                };
                if (epoch + 1 == 1 || (epoch + 1) % settings.SampleEvery == 0 || epoch + 1 == epochs)
                    WriteSamples(Path.Combine(outDir, string.Create(CultureInfo.InvariantCulture, $"samples-epoch{epoch + 1:00}.png")), generator, fixedLatent);
                WriteCurves(outDir, state.History, settings.Discriminator);
                Save(outDir, generator, optG, discriminator, optD, state);
                progress.Message(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {epoch + 1}: D loss {record.TrainLoss:0.0000}, G loss {record.Dev["g_loss"]:0.0000}, D(x) {record.Dev["d_real"]:0.000}, D(G(z)) {record.Dev["d_fake"]:0.000}, {record.Seconds:0} s"));
            }
        return state;
    }

    /// <summary>Losses of one step: the discriminator's, the generator's, and the mean probabilities D gives real and generated images.</summary>
    public readonly record struct StepLosses(double Discriminator, double Generator, double RealProbability, double FakeProbability);

    /// <summary>
    /// One discriminator step (log D(x) + log(1 − D(G(z))) maximised, as a BCE on logits), then one generator step on
    /// the same generated batch with the non-saturating loss −log D(G(z)).
    /// </summary>
    public static StepLosses Step(DigitGenerator generator, OptimizerHelper optG, PlanarClassifier discriminator, OptimizerHelper optD,
        Tensor images, long[] batch, int latentSize, Device device)
    {
        using var scope = NewDisposeScope();
        generator.train();
        discriminator.train();
        var real = images.index_select(0, tensor(batch, device: device));
        var fake = generator.forward(randn(new long[] { batch.Length, latentSize }, device: device));
        var ones = torch.ones(batch.Length, 1, device: device);
        var zeros = torch.zeros(batch.Length, 1, device: device);

        optD.zero_grad();
        var realLogits = discriminator.forward(real);
        var fakeLogits = discriminator.forward(fake.detach());
        var lossD = nn.functional.binary_cross_entropy_with_logits(realLogits, ones).add(nn.functional.binary_cross_entropy_with_logits(fakeLogits, zeros), KeptScalar.One);
        lossD.backward();
        optD.step();

        optG.zero_grad();
        var lossG = nn.functional.binary_cross_entropy_with_logits(discriminator.forward(fake), ones);
        lossG.backward();
        optG.step();
        return new StepLosses(lossD.item<float>(), lossG.item<float>(), realLogits.sigmoid().mean().item<float>(), fakeLogits.sigmoid().mean().item<float>());
    }

    // the running sums of the epoch's other losses ride in the state's free-form dictionary, so a mid-epoch resume keeps them
    private static Dictionary<string, double> Accumulate(Dictionary<string, double> sums, StepLosses l) => new()
    {
        ["g_loss"] = sums.GetValueOrDefault("g_loss") + l.Generator,
        ["d_real"] = sums.GetValueOrDefault("d_real") + l.RealProbability,
        ["d_fake"] = sums.GetValueOrDefault("d_fake") + l.FakeProbability,
    };

    private static EpochRecord EpochEnd(TrainingState s, int epoch, double seconds)
    {
        int n = Math.Max(1, s.EpochLossCount);
        double before = s.History.Sum(h => h.Seconds);   // records hold each epoch's own seconds
        var dev = s.Schedule.ToDictionary(kv => kv.Key, kv => kv.Value / n);
        return new EpochRecord(epoch, s.Step, s.EpochLossSum / n, dev, 0, seconds - before);
    }

    private static void WriteSamples(string path, DigitGenerator generator, Tensor latent)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        generator.eval();
        var x = generator.forward(latent).cpu();
        SampleGrid.WritePng(path, x.data<float>().ToArray(), (int)x.shape[^1], 8);
        generator.train();
    }

    private static void WriteCurves(string outDir, IReadOnlyList<EpochRecord> history, string discriminator)
    {
        var csv = new StringBuilder("epoch,step,d_loss,g_loss,d_real,d_fake,epoch_seconds\n");
        foreach (var h in history)
            csv.Append(string.Create(CultureInfo.InvariantCulture,
                $"{h.Epoch},{h.Step},{h.TrainLoss:0.000000},{h.Dev["g_loss"]:0.000000},{h.Dev["d_real"]:0.000000},{h.Dev["d_fake"]:0.000000},{h.Seconds:0.0}\n"));
        Checkpoint.WriteTextAtomic(Path.Combine(outDir, LossesName), csv.ToString());
        Plots.TrainingCurves(Path.Combine(outDir, "losses.png"), history,
            $"GAN with a {discriminator.ToUpperInvariant()} discriminator: train loss = D loss; g_loss, mean D(x), mean D(G(z)) per epoch");
    }

    /// <summary>
    /// Both networks and optimizers in one checkpoint folder: each written by <see cref="Checkpoint.Save"/> into a
    /// temporary folder that then replaces the previous one, so the pair is never mixed from two steps.
    /// </summary>
    private static void Save(string outDir, DigitGenerator generator, OptimizerHelper optG, PlanarClassifier discriminator, OptimizerHelper optD, TrainingState state)
    {
        string final = Path.Combine(outDir, CheckpointName), tmp = Path.Combine(outDir, $".{CheckpointName}.tmp-{Environment.ProcessId}"), old = Path.Combine(outDir, $".{CheckpointName}.old");
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Checkpoint.Save(tmp, generator, optG, state, "generator");
        Checkpoint.Save(tmp, discriminator, optD, state, "discriminator");
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(final)) Directory.Move(final, old);
        Directory.Move(tmp, final);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>The complete checkpoint folder (the previous one if a crash hit between the two renames), or null.</summary>
    private static string? CheckpointDir(string outDir) => new[] { CheckpointName, $".{CheckpointName}.old" }
        .Select(n => Path.Combine(outDir, n))
        .FirstOrDefault(d => Checkpoint.Locate(d, "generator") is not null && Checkpoint.Locate(d, "discriminator") is not null);

    private static GanSettings ReadSettings(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no GAN settings to resume from (is this a 'mnist gan' output directory?).", path);
        try { return JsonSerializer.Deserialize<GanSettings>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty."); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: line {e.LineNumber + 1}: not GAN settings ({e.Message})", e); }
    }
}
