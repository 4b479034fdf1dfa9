using System.Text.Json;
using EquiSharp.Applications.Rna;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Applications.Rna.Training;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Regression;

/// <summary>
/// Guards refactorings of the shared core: 20 training steps of the RNA SCNN and CNN (small and paper size, dense and
/// packed maps) and the demo's two models, at fixed seeds, must reproduce the losses and final logits recorded before
/// the refactoring (refactor-guard.json, recorded from commit e2707fe with EQUISHARP_RECORD_GUARD=&lt;path&gt;).
/// Compared bit for bit where the code path is unchanged; a tolerance of 1e-6 (relative) is allowed where an
/// operation order changed, and the report says which variants were not bit-identical. The recorded variants run their
/// convolutions directly (as when they were recorded); "-fourier" variants (recorded when the FFT convolutions came)
/// guard the FFT path the same way.
/// <para>
/// Rounding depends on libtorch's convolution kernels, so the fingerprints come in two sets: refactor-guard.json with
/// oneDNN (recorded where its kernels are right) and refactor-guard-native.json with libtorch's own kernels, used where
/// <see cref="EquiSharp.Runtime.ConvolutionKernelGuard"/> turned oneDNN off (recorded on the AVX-512 host where oneDNN's
/// float32 input gradient was wrong, after the Scalar-lifetime changes of that session).
/// </para>
/// </summary>
[Collection("rna-serial")]
public sealed class RefactorGuardTests
{
    private static string ReferencePath => Path.Combine(AppContext.BaseDirectory, "Regression",
        EquiSharp.Runtime.ConvolutionKernelGuard.Ensure() ? "refactor-guard-native.json" : "refactor-guard.json");

    private sealed record Fingerprint(string Name, float[] Losses, float[] Logits, double[] Extra);

    public static IEnumerable<object[]> Variants() => new[]
    {
        new object[] { "small-scnn-dense" }, new object[] { "small-scnn-packed" }, new object[] { "small-cnn" },
        new object[] { "paper-scnn-dense" }, new object[] { "paper-scnn-packed" }, new object[] { "paper-cnn" },
        new object[] { "paper-scnn-packed-fourier" }, new object[] { "paper-cnn-fourier" }, new object[] { "demo" },
    };

    private static Fingerprint Run(string name)
    {
        if (name == "demo") return RunDemo();
        bool paper = name.StartsWith("paper"), symmetric = name.Contains("scnn"), packed = name.Contains("packed");
        var records = SyntheticRna.Generate(24, 20, 36, seed: 5);
        manual_seed(11);
        using var model = new RnaPairModel(paper ? RnaModelConfig.Paper : RnaModelConfig.Small, symmetric);
        if (symmetric) model.PackedMaps = packed;
        model.Convolution = name.EndsWith("fourier") ? EquiSharp.Layers.ConvolutionAlgorithm.Fourier : EquiSharp.Layers.ConvolutionAlgorithm.Direct;
        var options = new RnaTrainingOptions { Crop = 24, BatchSize = 2 };
        var task = new RnaTrainingTask(model, records, records.Take(2).ToList(), options, CPU);
        var optimizer = Optimizers.Adam(model.parameters(), options.LearningRate, weightDecay: options.L2);
        var losses = new List<float>();
        var batches = task.EpochBatches(0, new Random(3));
        for (int step = 0; step < 20; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = task.Loss(batches[step % batches.Count]);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        using var _ = no_grad();
        using var evalScope = NewDisposeScope();
        model.eval();
        var t = RnaFeatures.Batch(records, new[] { new RnaWindow(0, 0, records[0].Length), new RnaWindow(1, 0, records[1].Length) }, CPU);
        var logits = model.forward(t.OneHot, t.Lengths).contiguous().data<float>().ToArray();
        return new Fingerprint(name, losses.ToArray(), logits, Array.Empty<double>());
    }

    private static Fingerprint RunDemo()
    {
        using var dir = new TempDir();
        var result = RnaDemo.Run(new RnaDemoOptions
        {
            TrainCount = 48, DevCount = 8, TestCount = 8, MaxSteps = 12, Epochs = 4, BatchSize = 8, OutDir = dir.Path, Seed = 3,
        }, new PlainLineProgress(TextWriter.Null));
        var extra = result.Models.SelectMany(m => new[] { m.Test.Ppv, m.Test.Sensitivity, m.Test.Accuracy, m.Test.F1, (double)m.Parameters, (double)m.Steps }).ToArray();
        return new Fingerprint("demo", Array.Empty<float>(), Array.Empty<float>(), extra);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void TrainingReproducesTheRecordedFingerprint(string name)
    {
        var actual = Run(name);
        string? record = Environment.GetEnvironmentVariable("EQUISHARP_RECORD_GUARD");
        if (record is not null)
        {
            var all = File.Exists(record) ? JsonSerializer.Deserialize<List<Fingerprint>>(File.ReadAllText(record))! : new List<Fingerprint>();
            all.RemoveAll(f => f.Name == name);
            all.Add(actual);
            File.WriteAllText(record, JsonSerializer.Serialize(all.OrderBy(f => f.Name, StringComparer.Ordinal)));
            return;
        }
        var expected = JsonSerializer.Deserialize<List<Fingerprint>>(File.ReadAllText(ReferencePath))!.Single(f => f.Name == name);
        Assert.Equal(expected.Losses.Length, actual.Losses.Length);
        Assert.Equal(expected.Logits.Length, actual.Logits.Length);
        Assert.True(RelativeDeviation(expected.Losses, actual.Losses) <= 1e-6, $"{name}: losses moved by {RelativeDeviation(expected.Losses, actual.Losses):E2}");
        Assert.True(RelativeDeviation(expected.Logits, actual.Logits) <= 1e-6, $"{name}: logits moved by {RelativeDeviation(expected.Logits, actual.Logits):E2}");
        Assert.Equal(expected.Extra, actual.Extra);
    }

    private static double RelativeDeviation(float[] expected, float[] actual)
    {
        double scale = expected.Length == 0 ? 1 : expected.Max(v => Math.Abs((double)v));
        double dev = 0;
        for (int i = 0; i < expected.Length; i++) dev = Math.Max(dev, Math.Abs((double)expected[i] - actual[i]));
        return dev / Math.Max(scale, 1e-30);
    }
}
