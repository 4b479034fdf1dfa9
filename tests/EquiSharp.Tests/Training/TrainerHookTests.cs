using EquiSharp.Training;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Training;

/// <summary>The trainer's hooks: learning-rate schedule (checkpointed), gradient clipping, selection metric.</summary>
public sealed class TrainerHookTests
{
    /// <summary>A one-parameter regression whose dev metrics are scripted per epoch.</summary>
    private sealed class ScriptedTask(double[] devScores, double[]? devLoss = null) : ITrainingTask<int>
    {
        private readonly TorchSharp.Modules.Linear model = nn.Linear(1, 1);
        private int evaluations;
        public List<double> GradientNorms { get; } = new();
        public nn.Module Model => model;
        public IReadOnlyList<int> EpochBatches(int epoch, Random rng) => new[] { 0, 1 };
        public Tensor Loss(int batch)
        {
            var x = full(new long[] { 4, 1 }, KeptScalar.Of(100f));
            return (model.forward(x).sub(KeptScalar.Of(1000))).pow(KeptScalar.Of(2)).mean();
        }
        public EvalResult Evaluate()
        {
            int e = evaluations++;
            return new EvalResult(devScores[e], new Dictionary<string, double> { ["acc"] = devScores[e], ["loss"] = devLoss?[e] ?? 0 });
        }
    }

    [Fact]
    public void ReduceOnPlateauLowersTheRateAfterPatienceEpochsWithoutImprovementAndResumesItsState()
    {
        var s = new ReduceOnPlateau(Factor: 0.5, Patience: 1);
        var state = new Dictionary<string, double>();
        Assert.Equal(1.0, s.Next(1.0, 0.3, state));  // first score: best
        Assert.Equal(1.0, s.Next(1.0, 0.2, state));  // 1 bad epoch: not more than patience
        Assert.Equal(0.5, s.Next(1.0, 0.25, state)); // 2 bad epochs: reduce, counter reset
        Assert.Equal(0.5, s.Next(0.5, 0.2, state));
        Assert.Equal(0.5, s.Next(0.5, 0.4, state));  // improvement resets
        Assert.Equal(0.4, state["best"], 12);
    }

    [Fact]
    public void TheTrainerAppliesTheScheduleAndAResumedRunKeepsItsRate()
    {
        using var dir = new TempDir();
        manual_seed(1);
        var task = new ScriptedTask(new[] { 0.5, 0.4, 0.3, 0.2, 0.1, 0.0 });
        var optimizer = Optimizers.Sgd(task.Model.parameters(), 1e-6);
        var options = new TrainerOptions { Epochs = 3, Patience = null, HandleInterrupt = false, OutDir = dir.Path, Schedule = new ReduceOnPlateau(0.1, 0) };
        var first = Trainer.Fit(task, optimizer, options, new PlainLineProgress(TextWriter.Null));
        Assert.Equal(1e-8, LearningRates.Get(optimizer), 15);        // reduced after epochs 2 and 3
        Assert.Equal(1e-8, first.State.LearningRate!.Value, 15);

        var fresh = new ScriptedTask(new[] { 0.0, 0.0, 0.0 });
        var optimizer2 = Optimizers.Sgd(fresh.Model.parameters(), 1e-6);     // the command line's rate: the checkpoint's wins
        Trainer.Fit(fresh, optimizer2, options with { Epochs = 4, Resume = true }, new PlainLineProgress(TextWriter.Null));
        Assert.Equal(1e-9, LearningRates.Get(optimizer2), 15);        // and the schedule continued (epoch 4: no improvement)
    }

    [Fact]
    public void GradientClippingBoundsTheStep()
    {
        manual_seed(2);
        var clipped = new ScriptedTask(new[] { 0.0 });
        var w0 = clipped.Model.parameters().Select(p => p.detach().clone()).ToList();
        var opt = Optimizers.Sgd(clipped.Model.parameters(), 1.0);
        Trainer.Fit(clipped, opt, new TrainerOptions { Epochs = 1, Patience = null, HandleInterrupt = false, ClipGradientNorm = 0.5 }, new PlainLineProgress(TextWriter.Null));
        // two SGD steps of learning rate 1 with a gradient norm of at most 0.5 move the parameters by at most 1
        double moved = Math.Sqrt(clipped.Model.parameters().Zip(w0).Sum(t => (t.First.detach() - t.Second).pow(KeptScalar.Of(2)).sum().item<float>()));
        Assert.InRange(moved, 0.5, 1.0 + 1e-6);

        var free = new ScriptedTask(new[] { 0.0 });
        var v0 = free.Model.parameters().Select(p => p.detach().clone()).ToList();
        Trainer.Fit(free, Optimizers.Sgd(free.Model.parameters(), 1.0), new TrainerOptions { Epochs = 1, Patience = null, HandleInterrupt = false }, new PlainLineProgress(TextWriter.Null));
        double movedFree = Math.Sqrt(free.Model.parameters().Zip(v0).Sum(t => (t.First.detach() - t.Second).pow(KeptScalar.Of(2)).sum().item<float>()));
        Assert.True(movedFree > 10, $"unclipped step moved {movedFree}");
    }

    [Fact]
    public void TheSelectionMetricPicksTheBestEpoch()
    {
        var byScore = Trainer.Fit(new ScriptedTask(new[] { 0.1, 0.9, 0.5 }, new[] { 3.0, 2.0, 1.0 }), Optimizers.Sgd(nn.Linear(1, 1).parameters(), 0),
            new TrainerOptions { Epochs = 3, Patience = null, HandleInterrupt = false }, new PlainLineProgress(TextWriter.Null));
        Assert.Equal(2, byScore.State.BestEpoch);
        var byLoss = Trainer.Fit(new ScriptedTask(new[] { 0.1, 0.9, 0.5 }, new[] { 3.0, 2.0, 1.0 }), Optimizers.Sgd(nn.Linear(1, 1).parameters(), 0),
            new TrainerOptions { Epochs = 3, Patience = null, HandleInterrupt = false, Select = SelectionMetric.Parse("loss") }, new PlainLineProgress(TextWriter.Null));
        Assert.Equal(3, byLoss.State.BestEpoch); // the lowest loss
        Assert.Throws<ArgumentException>(() => SelectionMetric.Parse("mcc").Score(new EvalResult(0, new() { ["acc"] = 1 })));
    }
}
