using System.Globalization;
using EquiSharp.Applications.Dna.Training;
using EquiSharp.Cli.Commands;
using EquiSharp.Tests.Cli;

namespace EquiSharp.Tests.Applications.Dna;

/// <summary>The training-set-size curve: seeded nested subsets of the training split, and the per-point summary.</summary>
[Collection("rna-serial")] // the CLI test redirects Console
public sealed class TrainingSizeCurveTests
{
    private static readonly long[] Train = Enumerable.Range(0, 200).Select(i => (long)(3 * i + 1)).ToArray();

    [Fact]
    public void SubsetsAreSeededNestedAndOfTheRoundedUpSize()
    {
        var small = DnaTrainingTask.TrainingSubset(Train, 0.05, seed: 4);
        var large = DnaTrainingTask.TrainingSubset(Train, 0.4, seed: 4);
        Assert.Equal(10, small.Length);
        Assert.Equal(80, large.Length);
        Assert.Equal(21, DnaTrainingTask.TrainingSubset(Train, 0.101, seed: 4).Length);      // ⌈20.2⌉
        Assert.Subset(large.ToHashSet(), small.ToHashSet());
        Assert.Subset(Train.ToHashSet(), large.ToHashSet());
        Assert.Equal(large.OrderBy(i => i), large);                                         // file order
        Assert.Equal(small, DnaTrainingTask.TrainingSubset(Train, 0.05, seed: 4));
        Assert.NotEqual(small, DnaTrainingTask.TrainingSubset(Train, 0.05, seed: 5));
        Assert.Same(Train, DnaTrainingTask.TrainingSubset(Train, 1.0, seed: 4));
        Assert.NotEqual(Train.Take(10), small);                                             // not simply the first rows
        Assert.Throws<ArgumentException>(() => DnaTrainingTask.TrainingSubset(Train, 0, 1));
        Assert.Throws<ArgumentException>(() => DnaTrainingTask.TrainingSubset(Train, 1.5, 1));
    }

    private static DnaTestReport Report(string kind, double fraction, int seed, double auroc, bool augment = false) =>
        new(kind, 20, augment, seed, 1000, 3, 30, 1.0, auroc, auroc / 2, new(), 0) { TrainFraction = fraction };

    [Fact]
    public void PointsGroupByModelAndFractionWithSampleSpread()
    {
        var points = TrainingSizeCurve.Summarise(new[]
        {
            Report("rc", 0.1, 1, 0.70), Report("rc", 0.1, 2, 0.74), Report("rc", 0.1, 3, 0.78),
            Report("standard", 0.1, 1, 0.60), Report("standard", 0.1, 2, 0.62), Report("standard", 0.1, 1, 0.90, augment: true),
            Report("rc", 0.5, 2, 0.85),
        }, "auroc");
        Assert.Equal(new[] { "rc-20@0.1", "rc-20@0.5", "standard-20@0.1", "standard-20+aug@0.1" }, points.Select(p => $"{p.Model}@{p.Fraction.ToString(CultureInfo.InvariantCulture)}"));
        var rc = points[0];
        Assert.Equal(3, rc.Runs);
        Assert.Equal(0.74, rc.Mean, 12);
        Assert.Equal(0.04, rc.Sd, 12);                    // sample sd of 0.70, 0.74, 0.78
        Assert.Equal((0.70, 0.78), (rc.Min, rc.Max));
        Assert.Equal(new[] { 1, 2, 3 }, rc.Seeds);
        Assert.Equal(0, points[1].Sd);                    // one run: no spread
        Assert.Equal(0.305, TrainingSizeCurve.Summarise(new[] { Report("standard", 0.1, 1, 0.60), Report("standard", 0.1, 2, 0.62) }, "auprc")[0].Mean, 12);
    }

    [Fact]
    public void TrainWithAFractionRecordsItAndCurveSummarisesTheRuns()
    {
        using var dir = new TempDir();
        string motifs = dir.Write("motifs.txt", ">M1\nG 0 0 1 0\nA 1 0 0 0\nT 0 0 0 1\nA 1 0 0 0\n>M2\nC 0 1 0 0\nC 0 1 0 0\nG 0 0 1 0\nG 0 0 1 0\n");
        string data = Path.Combine(dir.Path, "sim");
        Assert.Equal(0, InProcessCli.Run(new DnaCommand(), "dna", "simulate", "--motifs", motifs, "--names", "M1,M2", "--out", data, "--n", "200", "--seed", "2").Code);
        var runs = new List<string>();
        foreach (var (fraction, seed) in new[] { ("0.25", "1"), ("0.25", "2"), ("1", "1") })
        {
            string run = Path.Combine(dir.Path, $"rc-{fraction}-{seed}");
            var train = InProcessCli.Run(new DnaCommand(), "dna", "train", "--data", data, "--model", "rc", "--filters", "3", "--out", run, "--train-fraction", fraction,
                "--samples-per-epoch", "40", "--batch", "20", "--max-steps", "4", "--seed", seed, "--threads", "0");
            Assert.True(train.Code == 0, train.Err + train.Out);
            if (fraction == "0.25") Assert.Contains("train 20 (0.25 of 80)", train.Out + train.Err);   // 40% of 200 = 80 training sequences
            runs.Add(run);
        }
        Assert.Equal(0.25, DnaTrainRun.ReadReport(runs[0]).TrainFraction);
        string png = Path.Combine(dir.Path, "curve.png");
        var curve = InProcessCli.Run(new DnaCommand(), new[] { "dna", "curve", "--out", png, "--runs" }.Concat(runs).ToArray());
        Assert.True(curve.Code == 0, curve.Err);
        var lines = curve.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("rc-3", StringComparison.Ordinal) && l.Contains(" 0.25 ") && l.Contains(" 2 ") && l.TrimEnd().EndsWith("1,2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("rc-3", StringComparison.Ordinal) && l.Contains(" 1 ") && l.TrimEnd().EndsWith(" 1", StringComparison.Ordinal));
        Assert.True(new FileInfo(png).Length > 1000);
        var bad = InProcessCli.Run(new DnaCommand(), "dna", "train", "--data", data, "--out", Path.Combine(dir.Path, "bad"), "--train-fraction", "0", "--max-steps", "1", "--threads", "0");
        Assert.Equal(1, bad.Code);
        Assert.Contains("training fraction", bad.Err);
    }
}
