using System.Text.Json;
using EquiSharp.Applications.Rna;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Applications.Rna.Training;
using EquiSharp.Cli.Commands;
using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Tests.Cli;
using EquiSharp.Training;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Applications.Rna;

/// <summary>
/// The options that bring the RNA comparison closer to the authors' training (issue 17): the CNN's batch-norm
/// statistics over the supervised triangle, the authors' initialisation and batch-norm settings, the output bias at the
/// base-rate logit, the crop curriculum and random dev windows.
/// </summary>
[Collection("rna-serial")]
public sealed class RnaFidelityTests
{
    private static RnaModelConfig Config(string init = "glorot", PairNormStatistics statistics = PairNormStatistics.MirroredUpper) =>
        RnaModelConfig.Small with { Init = init, Norm = PairNormSettings.Keras with { Statistics = statistics } };

    [Fact]
    public void CnnNormsTakeStatisticsOverTheSupervisedTriangleAndTheScnnOverItsWholeMaps()
    {
        using var cnn = new RnaPairModel(Config(), symmetric: false);
        using var scnn = new RnaPairModel(Config(), symmetric: true);
        var cnnNorms = cnn.modules().OfType<PairBatchNorm2d>().ToList();
        Assert.Equal(5, cnnNorms.Count); // encoder, two stages, skip, head
        Assert.All(cnnNorms, n => Assert.Equal(PairNormStatistics.MirroredUpper, n.Statistics));
        Assert.All(cnnNorms, n => Assert.Equal((1e-3, 0.01), (n.Eps, n.Momentum)));
        Assert.All(scnn.modules().OfType<PairBatchNorm2d>(), n => Assert.Equal(PairNormStatistics.WholeBlock, n.Statistics));
        using var old = new RnaPairModel(RnaModelConfig.Small, symmetric: false);
        Assert.All(old.modules().OfType<PairBatchNorm2d>(), n => Assert.Equal((PairNormStatistics.WholeBlock, 1e-5, 0.1), (n.Statistics, n.Eps, n.Momentum)));
    }

    [Fact]
    public void TheCnnsLossAndHeadStatisticsIgnoreItsLowerTriangle()
    {
        // the loss reads the strict upper triangle only; the head's statistics (its running mean after one training
        // forward) read the map mirrored from it: neither moves when only the lower triangle of the head's input map moves
        manual_seed(5);
        var logits = randn(2, 9, 9);
        var labels = (rand(2, 9, 9) < KeptScalar.Of(0.1)).to(ScalarType.Float32);
        var lengths = tensor(new long[] { 9, 7 });
        var lower = ones(9, 9).tril(-1);
        var moved = logits.add(lower.mul(KeptScalar.Of(4)), KeptScalar.One);
        double a = PairLoss.UpperTriangleWeightedBce(logits, labels, lengths, 5).item<float>();
        Assert.Equal(a, PairLoss.UpperTriangleWeightedBce(moved, labels, lengths, 5).item<float>(), 6);
        Assert.NotEqual(a, PairLoss.UpperTriangleWeightedBce(logits.add((lower.neg().add(KeptScalar.Of(1), KeptScalar.One)).mul(KeptScalar.Of(4)), KeptScalar.One), labels, lengths, 5).item<float>(), 3);

        using var cnn = new RnaPairModel(Config(), symmetric: false);
        var head = cnn.modules().OfType<PairBatchNorm2d>().Single(n => n.Channels == 1);
        var mask = PairMask.FromLengths(lengths, 9);
        var x = randn(2, 1, 9, 9);
        Tensor RunningMeanAfter(Tensor input)
        {
            using (no_grad()) { head.RunningMean.zero_(); head.RunningVar.fill_(KeptScalar.Of(1)); }
            head.train();
            head.forward(input, mask);
            return head.RunningMean.clone();
        }
        Assert.Equal(RunningMeanAfter(x).item<float>(), RunningMeanAfter(x.add(lower.mul(KeptScalar.Of(3)), KeptScalar.One)).item<float>(), 5);
        Assert.NotEqual(RunningMeanAfter(x).item<float>(), RunningMeanAfter(x.add((lower.neg().add(KeptScalar.Of(1), KeptScalar.One)).mul(KeptScalar.Of(3)), KeptScalar.One)).item<float>(), 3);
    }

    /// <summary>Largest relative deviation of a sample std from σ allowed for n uniform draws: 5 standard errors (≈ 0.45/√n each) plus 1%.</summary>
    private static double Tolerance(long n) => 5 * 0.45 / Math.Sqrt(n) + 0.01;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthorsInitialisationHasTheStatedStd(bool symmetric)
    {
        // every kernel, tied (θ and its materialised entries) or plain: std √(0.5 / (C_in + C_out)), no k² term
        manual_seed(9);
        using var model = new RnaPairModel(RnaModelConfig.Paper with { Init = "authors" }, symmetric);
        using var glorot = new RnaPairModel(RnaModelConfig.Paper, symmetric);
        int checkedLayers = 0, glorotFailures = 0;
        foreach (var (layer, reference) in model.modules().Zip(glorot.modules()))
        {
            (Tensor Values, long In, long Out)? Kernel(nn.Module m) => m switch
            {
                TiedConvolution t => (t.TiedKernel.Theta.detach(), t.InChannels, t.OutChannels),
                TorchSharp.Modules.Conv2d c => (c.weight!.detach(), c.weight!.shape[1], c.weight!.shape[0]),
                _ => null,
            };
            if (Kernel(layer) is not var (values, cin, cout)) continue;
            double expected = Math.Sqrt(0.5 / (cin + cout)), tolerance = Tolerance(values.numel());
            double std = values.std().item<float>();
            Assert.True(Math.Abs(std / expected - 1) <= tolerance, $"{layer.GetName()} {cin}→{cout}: std {std:G4}, expected {expected:G4} ± {tolerance:P1}");
            if (layer is TiedConvolution tied)
            {
                double entries = tied.Weight().detach().std().item<float>();
                Assert.True(Math.Abs(entries / expected - 1) <= tolerance, $"{layer.GetName()}: materialised entries std {entries:G4}");
            }
            double glorotStd = Kernel(reference)!.Value.Values.std().item<float>();
            if (Math.Abs(glorotStd / expected - 1) > tolerance) glorotFailures++;
            checkedLayers++;
        }
        Assert.Equal(9, checkedLayers); // encoder, 6 stage branches, skip, head
        Assert.True(glorotFailures == checkedLayers, $"the default (Glorot) kernels pass the check in {checkedLayers - glorotFailures} of {checkedLayers} layers");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OutputBiasStartsAtTheGivenLogit(bool symmetric)
    {
        // training mode (batch statistics): the mean logit over the head norm's statistics entries is β exactly
        var records = SyntheticRna.Generate(3, 20, 30, seed: 4);
        var t = RnaFeatures.Batch(records, records.Select((r, k) => new RnaWindow(k, 0, r.Length)).ToList());
        long l = t.OneHot.shape[1];
        var mask = PairMask.FromLengths(t.Lengths, l).squeeze(1);
        var weights = symmetric ? mask : mask * (ones(l, l).triu(1).mul(KeptScalar.Of(2)).add(eye(l), KeptScalar.One));
        double MeanLogit(RnaPairModel model)
        {
            model.train();
            using (no_grad()) return ((model.forward(t.OneHot, t.Lengths) * weights).sum() / weights.sum()).item<float>();
        }
        manual_seed(6);
        using var model = new RnaPairModel(Config(), symmetric);
        double logit = PairBaseRate.Logit(0.004);
        Assert.True(Math.Abs(MeanLogit(model)) < 1e-4); // β = 0 at first: the test can fail
        model.InitialiseOutputBias(logit);
        Assert.Equal(logit, MeanLogit(model), 4);
    }

    [Fact]
    public void BaseRateIsTheExpectedPairFractionOfRandomCrops()
    {
        // length 4, pairs (0,3) and (1,2); crop 3 starts at 0 or 1: (1,2) is inside both windows, (0,3) inside neither,
        // 3 entries i < j per window → 1/3. A 2-nt record with its one pair, shorter than the crop, adds 1 of 1 entry.
        var four = new RnaStructure("four", "GGCC", new[] { 3, 2, 1, 0 });
        var two = new RnaStructure("two", "GC", new[] { 1, 0 });
        Assert.Equal(1.0 / 3, PairBaseRate.OfCrops(new[] { four }, 3), 12);
        Assert.Equal(2.0 / 4, PairBaseRate.OfCrops(new[] { four, two }, 3), 12);
        Assert.Equal(2.0 / 6, PairBaseRate.OfCrops(new[] { four }, 4), 12);

        // and the exact value matches the crops the training task draws
        var records = SyntheticRna.Generate(40, 30, 90, seed: 8);
        using var model = new RnaPairModel(RnaModelConfig.Small, true);
        var task = new RnaTrainingTask(model, records, records.Take(2).ToList(), new RnaTrainingOptions { Crop = 24, BatchSize = 8 }, CPU);
        double pairs = 0, entries = 0;
        for (int epoch = 0; epoch < 200; epoch++)
            foreach (var w in task.EpochBatches(epoch, new Random(epoch)).SelectMany(b => b))
            {
                entries += w.Length * (w.Length - 1) / 2.0;
                pairs += records[w.Record].Pairs().Count(p => p.I >= w.Start && p.J < w.Start + w.Length);
            }
        Assert.InRange(pairs / entries / PairBaseRate.OfCrops(records, 24), 0.97, 1.03);
        Assert.Throws<ArgumentException>(() => PairBaseRate.Logit(0));
    }

    [Fact]
    public void CropScheduleChangesCropsAtTheGivenSteps()
    {
        var schedule = CropSchedule.Parse("16:0, 32:5,48:9");
        Assert.Equal("16:0,32:5,48:9", schedule.ToString());
        Assert.Equal(new[] { 16, 16, 32, 32, 48, 48 }, new long[] { 0, 4, 5, 8, 9, 1000 }.Select(schedule.CropAt));
        Assert.Equal(new[] { 64, 64 }, new long[] { 0, 10_000 }.Select(CropSchedule.Parse(" 64 ").CropAt));
        Assert.Equal("64", CropSchedule.Parse("64:0").ToString());
        foreach (var bad in new[] { "32:5", "16:0,32:0", "16:0,x", "0:0", "0", "-5" })
            Assert.StartsWith($"--crop-schedule {bad}:", Assert.Throws<ArgumentException>(() => CropSchedule.Parse(bad)).Message);

        // 10 records of ≥ 60 nt, batch 4: 3 batches per epoch, so step = 3·epoch + batch
        var records = SyntheticRna.Generate(10, 60, 80, seed: 3);
        using var model = new RnaPairModel(RnaModelConfig.Small, true);
        var task = new RnaTrainingTask(model, records, records.Take(2).ToList(), new RnaTrainingOptions { BatchSize = 4, CropSchedule = schedule }, CPU);
        for (int epoch = 0; epoch < 4; epoch++)
        {
            var batches = task.EpochBatches(epoch, new Random(Trainer.EpochSeed(1, epoch)));
            Assert.Equal(3, batches.Count);
            for (int b = 0; b < batches.Count; b++)
                Assert.All(batches[b], w => Assert.Equal(schedule.CropAt(3 * epoch + b), w.Length));
        }
    }

    /// <summary>
    /// Length-bucketed batches: every record once per epoch in the same number of batches, lengths within a batch
    /// close (so padding, the work a batch wastes, falls far below random batching), batch order still random, the
    /// crop schedule by batch position, and the same batches from the same generator.
    /// </summary>
    [Fact]
    public void LengthBucketsBatchSimilarLengthsAndKeepTheCropSchedule()
    {
        var records = SyntheticRna.Generate(120, 20, 200, seed: 5);
        using var model = new RnaPairModel(RnaModelConfig.Small, true);
        var schedule = CropSchedule.Parse("64:0,128:20");
        RnaTrainingTask Task(bool buckets) => new(model, records, records.Take(2).ToList(),
            new RnaTrainingOptions { BatchSize = 6, CropSchedule = schedule, LengthBuckets = buckets }, CPU);
        static long Padding(IEnumerable<EquiSharp.Applications.Rna.RnaWindow[]> batches) =>
            batches.Sum(b => (long)b.Max(w => w.Length) * b.Max(w => w.Length) * b.Length - b.Sum(w => (long)w.Length * w.Length));

        var bucketed = Task(true); var random = Task(false);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var b = bucketed.EpochBatches(epoch, new Random(Trainer.EpochSeed(1, epoch)));
            var r = random.EpochBatches(epoch, new Random(Trainer.EpochSeed(1, epoch)));
            Assert.Equal(r.Count, b.Count);
            Assert.Equal(Enumerable.Range(0, records.Count), b.SelectMany(x => x).Select(w => w.Record).Order());
            for (int k = 0; k < b.Count; k++)
                Assert.All(b[k], w => Assert.Equal(Math.Min(records[w.Record].Length, schedule.CropAt(epoch * b.Count + k)), w.Length));
            Assert.True(Padding(b) < Padding(r) / 3, $"padding bucketed {Padding(b)} vs random {Padding(r)}");
            var longest = b.Select(x => x.Max(w => records[w.Record].Length)).ToList();
            Assert.NotEqual(longest.Order(), longest);  // batches are not in length order
            Assert.Equal(b.SelectMany(x => x), bucketed.EpochBatches(epoch, new Random(Trainer.EpochSeed(1, epoch))).SelectMany(x => x));
        }
    }

    [Fact]
    public void ACurriculumRunResumesExactly()
    {
        // 12 training records, batch 4: 3 steps per epoch. The crop changes at step 4, inside the second epoch; a run
        // stopped after the first epoch (--max-steps cuts an epoch short, so the stop is at an epoch end) and resumed
        // to step 7 ends bit-identical to the uninterrupted run: the crops follow the run's step, not the process's
        using var dir = new TempDir();
        string train = Path.Combine(dir.Path, "train.fa");
        RnaFile.Write(train, SyntheticRna.Generate(14, 24, 40, seed: 31), RnaFileFormat.DotBracketFasta);
        string[] common = { "rna", "train", "--train", train, "--size", "small", "--batch", "4", "--crop-schedule", "16:0,24:4",
            "--dev-window", "random", "--dev-max-length", "20", "--output-bias", "base-rate", "--init", "authors", "--model", "cnn", "--seed", "3" };
        string whole = Path.Combine(dir.Path, "whole"), parts = Path.Combine(dir.Path, "parts");
        var r = InProcessCli.Run(new RnaCommand(), common.Concat(new[] { "--out", whole, "--max-steps", "7" }).ToArray());
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("crops 16:0,24:4, batch 4", r.Out);
        Assert.Contains("output bias: logit -", r.Out);
        r = InProcessCli.Run(new RnaCommand(), common.Concat(new[] { "--out", parts, "--max-steps", "3" }).ToArray());
        Assert.True(r.Code == 0, r.Err + r.Out);
        r = InProcessCli.Run(new RnaCommand(), "rna", "train", "--resume", parts, "--max-steps", "7");
        Assert.True(r.Code == 0, r.Err + r.Out);
        foreach (var file in new[] { "checkpoint/model.bin", RnaDevWindows.FileName })
            Assert.True(File.ReadAllBytes(Path.Combine(whole, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(parts, file))), $"{file} differs from the uninterrupted run's");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(parts, RunOptions.FileName)));
        Assert.Equal("16:0,24:4", json.RootElement.GetProperty("CropSchedule").GetString());
        Assert.Equal("MirroredUpper", json.RootElement.GetProperty("CnnNormStatistics").GetString());
    }

    [Fact]
    public void RandomDevWindowsAreSeededStoredAndChecked()
    {
        var dev = SyntheticRna.Generate(12, 20, 90, seed: 6);
        var a = RnaDevWindows.Draw(dev, 40, seed: 2);
        Assert.Equal(a.Windows, RnaDevWindows.Draw(dev, 40, seed: 2).Windows);
        Assert.NotEqual(a.Windows, RnaDevWindows.Draw(dev, 40, seed: 3).Windows);
        Assert.All(a.Windows.Zip(dev), x => Assert.Equal(Math.Min(40, x.Second.Length), x.First.Length));
        Assert.Contains(a.Windows, w => w.Start > 0); // not prefixes
        Assert.All(a.Windows.Zip(dev), x => Assert.True(x.First.Start + x.First.Length <= x.Second.Length));
        using var dir = new TempDir();
        a.Save(dir.Path);
        Assert.Equal(a.Windows, RnaDevWindows.Load(dir.Path, dev).Windows);
        var e = Assert.Throws<InvalidDataException>(() => RnaDevWindows.Load(dir.Path, dev.Skip(1).ToList()));
        Assert.StartsWith(Path.Combine(dir.Path, RnaDevWindows.FileName), e.Message);
        Assert.InRange(RnaDevWindows.Prefixes(dev, 1000).PairCoverage(dev), 1, 1);
    }
}
