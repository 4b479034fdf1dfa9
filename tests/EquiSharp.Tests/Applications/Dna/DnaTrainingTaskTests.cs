using EquiSharp.Applications.Dna.Data;
using EquiSharp.Applications.Dna.Models;
using EquiSharp.Applications.Dna.Simulation;
using EquiSharp.Applications.Dna.Formats;
using EquiSharp.Applications.Dna.Training;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Dna;

public sealed class DnaTrainingTaskTests
{
    private static DnaDataSet Data(TempDir dir)
    {
        var p = new double[6, 4];
        for (int i = 0; i < 6; i++) p[i, i % 4] = 1;
        var q = new double[6, 4];
        for (int i = 0; i < 6; i++) q[i, (i + 1) % 4] = 1;
        MotifSimulation.Write(MotifSimulation.Run(new[] { new Motif("P", p), new Motif("Q", q) }, new MotifSimulationOptions { Count = 250, Seed = 5 }), dir.Path);
        return DnaDataSet.LoadDirectory(dir.Path, 1);
    }

    [Fact]
    public void EpochsWalkThroughAShuffledTrainingSetWithoutRepeatsAndReproducibly()
    {
        using var dir = new TempDir();
        var data = Data(dir);
        using var model = new DnaConvNet(DnaModelSpec.Simulated("rc", 2, data.TaskNames));
        var task = new DnaTrainingTask(model, data, CPU, seed: 3, samplesPerEpoch: 40, batchSize: 16);
        var train = data.Indices(DnaDataSet.Train).ToHashSet();   // 100 sequences
        Assert.Equal(new[] { 16, 16, 8 }, task.EpochBatches(0, new Random(1)).Select(b => b.Indices.Length));
        var firstPass = Enumerable.Range(0, 2).SelectMany(e => task.EpochBatches(e, new Random(e)).SelectMany(b => b.Indices)).ToList();
        var third = task.EpochBatches(2, new Random(2)).SelectMany(b => b.Indices).ToList();   // positions 80..119: the pass wraps at 100
        var pass = firstPass.Concat(third.Take(20)).ToList();
        Assert.Equal(100, pass.Distinct().Count());
        Assert.All(pass, i => Assert.Contains(i, train));
        Assert.Equal(firstPass, Enumerable.Range(0, 2).SelectMany(e => task.EpochBatches(e, new Random(99)).SelectMany(b => b.Indices)));
        Assert.All(task.EpochBatches(0, new Random(1)), b => Assert.Null(b.ReverseComplemented));
    }

    [Fact]
    public void AugmentationReverseComplementsAboutHalfTheSamples()
    {
        using var dir = new TempDir();
        var data = Data(dir);
        using var model = new DnaConvNet(DnaModelSpec.Simulated("standard", 2, data.TaskNames));
        var task = new DnaTrainingTask(model, data, CPU, seed: 3, augment: true, samplesPerEpoch: 1000, batchSize: 500);
        var flips = task.EpochBatches(0, new Random(4)).SelectMany(b => b.ReverseComplemented!).ToArray();
        Assert.InRange(flips.Count(f => f), 430, 570);
        Assert.True(float.IsFinite(task.Loss(task.EpochBatches(0, new Random(4))[0]).item<float>()));
    }
}
