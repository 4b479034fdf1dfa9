using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.Applications.Recommendation.Models;
using EquiSharp.Applications.Recommendation.Training;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Recommendation;

[Collection("training")]
public class RecommendationTrainingTests
{
    /// <summary>40 users walking through 30 items in steps of one from random starts: the next items follow from the last ones.</summary>
    private static ChronologicalSplit Walks()
    {
        var rng = new Random(4);
        var lines = Enumerable.Range(0, 40).SelectMany(u =>
        {
            int start = rng.Next(30);
            return Enumerable.Range(0, 20).Select(k => $"u{u} i{(start + k) % 30} 1");
        });
        return ChronologicalSplit.Create(InteractionLog.Build(InteractionReader.Parse(string.Join("\n", lines), InteractionFormat.Caser)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFewTrainerStepsReduceTheLoss(bool symmetric)
    {
        var split = Walks();
        manual_seed(2);
        var config = new CosRecConfig { Users = split.Log.UserCount, Items = split.Log.ItemCount, EmbeddingDim = 8, BlockChannels = new long[] { 8, 16 }, FcDim = 8 };
        using PairwiseSequenceRecommender model = symmetric ? new SCosRec(config) : new CosRec(config);
        var task = new RecommendationTrainingTask(model, split, new RecommendationTrainingOptions { BatchSize = 32, LearningRate = 1e-2 }, CPU);
        Assert.Equal(40 * 7, task.Instances.Count);                 // 14 training items per user: 14 − 8 + 1 windows
        var probe = task.EpochBatches(0, new Random(1))[0];
        double ProbeLoss()
        {
            model.eval();
            using var _ = no_grad();
            return task.Loss(probe).item<float>();
        }
        double before = ProbeLoss();
        var result = Trainer.Fit(task, task.CreateOptimizer(), new TrainerOptions { Epochs = 100, MaxSteps = 40, Patience = null, HandleInterrupt = false },
            new PlainLineProgress(TextWriter.Null));
        Assert.Equal(40, result.State.Step);
        Assert.NotEmpty(result.State.History);                      // epochs ended with a validation evaluation
        Assert.Contains("map", result.State.History[0].Dev.Keys);
        double after = ProbeLoss();
        Assert.True(after < 0.8 * before, $"loss {before} → {after}");
    }

    [Fact]
    public void AnEpochsBatchesDependOnlyOnItsSeed()
    {
        var split = Walks();
        using var model = new CosRec(new CosRecConfig { Users = split.Log.UserCount, Items = split.Log.ItemCount, EmbeddingDim = 4, BlockChannels = new long[] { 4 }, FcDim = 4 });
        var task = new RecommendationTrainingTask(model, split, new RecommendationTrainingOptions { BatchSize = 50 }, CPU);
        var a = task.EpochBatches(3, new Random(9));
        var b = task.EpochBatches(3, new Random(9));
        Assert.Equal(a.Select(x => x.Instances), b.Select(x => x.Instances));
        Assert.Equal(a.Select(x => x.Negatives), b.Select(x => x.Negatives));
        Assert.Equal(task.Instances.Count, a.Sum(x => x.Instances.Length));
        Assert.Equal(task.Instances.Count * 3, a.Sum(x => x.Negatives.Length));
        var sampler = new NegativeSampler(split);
        foreach (var batch in a)
            for (int k = 0; k < batch.Instances.Length; k++)
                for (int j = 0; j < 3; j++) Assert.False(sampler.InHistory(task.Instances.Users[batch.Instances[k]], batch.Negatives[k * 3 + j]));
    }
}
