using EquiSharp.Applications.Recommendation.Training;
using EquiSharp.Training;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Applications.Recommendation;

/// <summary>The trainer options of <c>rec train</c>: reduce-on-plateau (×0.15, patience 3) and selection on validation MAP.</summary>
[Collection("training")]
public sealed class RecommendationScheduleTests
{
    /// <summary>
    /// A task whose validation MAP is scripted per epoch while its own score keeps rising, so only a schedule and a
    /// selection driven by "map" (not by the task's score) react to the plateau.
    /// </summary>
    private sealed class ScriptedMapTask(double[] map) : ITrainingTask<int>
    {
        private readonly TorchSharp.Modules.Linear model = nn.Linear(1, 1);
        private int evaluations;
        public nn.Module Model => model;
        public IReadOnlyList<int> EpochBatches(int epoch, Random rng) => new[] { 0 };
        public Tensor Loss(int batch) => model.forward(ones(2, 1)).pow(KeptScalar.Of(2)).mean();
        public EvalResult Evaluate()
        {
            int e = evaluations++;
            return new EvalResult(e, new Dictionary<string, double> { ["map"] = map[e], ["p1"] = 0 });
        }
    }

    private static (double Rate, TrainingState State) Fit(double[] map, int epochs)
    {
        var task = new ScriptedMapTask(map);
        var optimizer = Optimizers.Sgd(task.Model.parameters(), 1e-3);
        var options = RecommendationTrainRun.TrainerOptionsFor(new RecommendationTrainRunOptions { OutDir = "" }, epochs, resume: false)
            with { OutDir = null, HandleInterrupt = false };
        var result = Trainer.Fit(task, optimizer, options, new PlainLineProgress(TextWriter.Null));
        return (LearningRates.Get(optimizer), result.State);
    }

    [Fact]
    public void TheLearningRateDropsByAFactorOf015AfterFourEpochsWithoutABetterValidationMap()
    {
        double[] map = { 0.10, 0.20, 0.20, 0.19, 0.20, 0.18, 0.17, 0.16, 0.15, 0.14 };
        var (rate5, state5) = Fit(map, 5);
        Assert.Equal(1e-3, rate5, 12);                 // epochs 3, 4, 5 without improvement: patience 3 not exceeded
        Assert.Equal(2, state5.BestEpoch);             // selected by map, not by the task's ever-rising score
        Assert.Equal(0.20, state5.BestScore, 12);
        var (rate6, _) = Fit(map, 6);
        Assert.Equal(1.5e-4, rate6, 12);               // the 4th epoch without improvement reduces ×0.15
        var (rate10, state10) = Fit(map, 10);
        Assert.Equal(2.25e-5, rate10, 12);             // and 4 more reduce again
        Assert.Equal(2.25e-5, state10.LearningRate!.Value, 12);
    }

    [Fact]
    public void AnImprovingValidationMapKeepsTheRate()
    {
        var (rate, state) = Fit(new[] { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6 }, 6);
        Assert.Equal(1e-3, rate, 12);
        Assert.Equal(6, state.BestEpoch);
    }
}
