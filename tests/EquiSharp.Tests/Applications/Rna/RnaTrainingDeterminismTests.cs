using EquiSharp.Applications.Rna.Inference;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Applications.Rna.Training;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Rna;

[Collection("rna-serial")]
public sealed class RnaTrainingDeterminismTests
{
    [Fact]
    public void SeedDerivationIsPureArithmetic()
    {
        // the same in every process (System.HashCode is randomised per process, this is not); value checked with Python
        int a = Seeds.Derive(1, 2, 0), b = Seeds.Derive(1, 2, 0);
        Assert.Equal(a, b);
        Assert.InRange(a, 0, int.MaxValue);
        Assert.NotEqual(a, Seeds.Derive(2, 2, 0));
        Assert.NotEqual(a, Seeds.Derive(1, 1, 0));
        Assert.NotEqual(a, Seeds.Derive(1, 2, 1));
        Assert.Equal(666_012_609, Seeds.Derive(0, 0, 1));
        Assert.Equal(Seeds.Derive(7, Seeds.DataOrderStream, 3), Trainer.EpochSeed(7, 3)); // the trainer uses it too
    }

    [Fact]
    public void DevSplitDependsOnlyOnSeedAndRecords()
    {
        var records = SyntheticRna.Generate(40, 16, 20, seed: 1);
        var a = DevSplit.Create(records.Select(r => r.Name).ToList(), 7, 0.1);
        var b = DevSplit.Create(records.Select(r => r.Name).ToList(), 7, 0.1);
        Assert.Equal(a.DevIndices, b.DevIndices);
        Assert.Equal(4, a.DevIndices.Length);
        Assert.NotEqual(a.DevIndices, DevSplit.Create(records.Select(r => r.Name).ToList(), 8, 0.1).DevIndices);
        var (train, dev) = a.Apply(records);
        Assert.Equal(36, train.Count);
        Assert.Empty(train.Intersect(dev));
    }

    [Fact]
    public void EpochBatchesDependOnlyOnTheGeneratorTheTrainerDerives()
    {
        var records = SyntheticRna.Generate(25, 16, 60, seed: 2);
        using var model = new RnaPairModel(RnaModelConfig.Small, true);
        var options = new RnaTrainingOptions { Crop = 24, BatchSize = 4 };
        var task = new RnaTrainingTask(model, records, records.Take(2).ToList(), options, CPU);
        var x = task.EpochBatches(3, new Random(Trainer.EpochSeed(5, 3))).SelectMany(b => b).ToList();
        var y = task.EpochBatches(3, new Random(Trainer.EpochSeed(5, 3))).SelectMany(b => b).ToList();
        Assert.Equal(x, y);
        Assert.NotEqual(x, task.EpochBatches(4, new Random(Trainer.EpochSeed(5, 4))).SelectMany(b => b).ToList());
        Assert.All(x, w => Assert.True(w.Length <= 24 && w.Start + w.Length <= records[w.Record].Length));
        Assert.Equal(25, x.Select(w => w.Record).Distinct().Count());
    }

    [Fact]
    public void CnnIsDecodedFromTheUpperTriangleOnly()
    {
        // upper triangle says (0,3); the untrained lower triangle says (1,2) strongly
        var p = new float[16];
        p[0 * 4 + 3] = 0.9f;
        p[2 * 4 + 1] = 1.0f;
        var decoder = new EquiSharp.Applications.Rna.Decoding.GreedyPairDecoder(new() { Threshold = 0.3f });
        using var cnn = new RnaPairModel(RnaModelConfig.Small, false);
        using var scnn = new RnaPairModel(RnaModelConfig.Small, true);
        Assert.Equal(new[] { 3, -1, -1, 0 }, decoder.Decode(RnaPredictor.DecodingMap(cnn, p, 4), 4));
        Assert.Same(p, RnaPredictor.DecodingMap(scnn, p, 4));
        Assert.Equal(1.0f, p[2 * 4 + 1]); // input untouched
    }
}
