using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.Applications.Recommendation.Evaluation;
using EquiSharp.Applications.Recommendation.Models;
using EquiSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Recommendation.Training;

/// <summary>Training hyperparameters of CosRec and SCosRec (CosRec's code defaults, SCNN paper IV-A).</summary>
public sealed record RecommendationTrainingOptions
{
    /// <summary>L: previous items per instance (must equal the model's Markov order).</summary>
    public int MarkovOrder { get; init; } = 5;
    /// <summary>T: next items per instance.</summary>
    public int Targets { get; init; } = 3;
    /// <summary>Negatives sampled per instance (CosRec's code draws this many per instance, not per target).</summary>
    public int NegativesPerInstance { get; init; } = 3;
    public int BatchSize { get; init; } = 512;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>L2 regularisation as Adam weight decay (CosRec's default 5e-6), the same for both models.</summary>
    public double L2 { get; init; } = 5e-6;
    /// <summary>Users scored per forward in evaluation.</summary>
    public int EvalBatchSize { get; init; } = 1024;
}

/// <summary>One step's instances (indices into <see cref="TrainingInstances"/>) and their negatives (row-major, instances × N).</summary>
public sealed record RecommendationBatch(int[] Instances, int[] Negatives);

/// <summary>
/// The recommendation plug-in for the shared <see cref="Trainer"/>: shuffled CosRec instances with negatives drawn from
/// the epoch's seeded <see cref="Random"/> (so resume is exact), the negative-sampling BCE, and validation ranking
/// metrics (score: MAP).
/// </summary>
public sealed class RecommendationTrainingTask : ITrainingTask<RecommendationBatch>
{
    private readonly PairwiseSequenceRecommender model;
    private readonly NegativeSampler sampler;
    private readonly RecommendationTrainingOptions options;
    private readonly Device device;

    public ChronologicalSplit Split { get; }
    public TrainingInstances Instances { get; }

    public RecommendationTrainingTask(PairwiseSequenceRecommender model, ChronologicalSplit split, RecommendationTrainingOptions options, Device device)
    {
        if (options.MarkovOrder != model.Config.MarkovOrder)
            throw new ArgumentException($"Training instances of Markov order {options.MarkovOrder} for a model of order {model.Config.MarkovOrder}.");
        if (options.BatchSize <= 0 || options.NegativesPerInstance <= 0)
            throw new ArgumentException($"Batch size and negatives per instance must be positive, got {options.BatchSize} and {options.NegativesPerInstance}.");
        this.model = model; this.options = options; this.device = device;
        Split = split;
        Instances = TrainingInstances.Create(split, options.MarkovOrder, options.Targets);
        if (Instances.Count == 0) throw new ArgumentException("No training instance: every user's training part has T items or fewer.");
        sampler = new NegativeSampler(split);
    }

    public nn.Module Model => model;

    /// <summary>Adam with the options' learning rate and L2 (weight decay).</summary>
    public OptimizerHelper CreateOptimizer() => Optimizers.Adam(model.parameters(), options.LearningRate, weightDecay: options.L2);

    public IReadOnlyList<RecommendationBatch> EpochBatches(int epoch, Random rng)
    {
        var order = Enumerable.Range(0, Instances.Count).ToArray();
        rng.Shuffle(order);
        int n = options.NegativesPerInstance;
        var batches = new List<RecommendationBatch>();
        foreach (var chunk in order.Chunk(options.BatchSize))
        {
            var negatives = new int[chunk.Length * n];
            for (int k = 0; k < chunk.Length; k++) sampler.Sample(Instances.Users[chunk[k]], rng, negatives.AsSpan(k * n, n));
            batches.Add(new RecommendationBatch(chunk, negatives));
        }
        return batches;
    }

    public Tensor Loss(RecommendationBatch batch)
    {
        int b = batch.Instances.Length, l = Instances.MarkovOrder, t = Instances.TargetCount, n = options.NegativesPerInstance;
        var users = tensor(batch.Instances.Select(k => (long)Instances.Users[k]).ToArray()).to(device);
        var sequences = tensor(batch.Instances.SelectMany(k => Row(Instances.Inputs, k, l)).ToArray(), new long[] { b, l }).to(device);
        var targets = tensor(batch.Instances.SelectMany(k => Row(Instances.Targets, k, t)).ToArray(), new long[] { b, t }).to(device);
        var negatives = tensor(batch.Negatives.Select(i => (long)i).ToArray(), new long[] { b, n }).to(device);
        var scores = model.forward(users, sequences, cat(new[] { targets, negatives }, 1));
        return NegativeSamplingLoss.BinaryCrossEntropy(scores.narrow(1, 0, t), scores.narrow(1, t, n));
    }

    private static IEnumerable<long> Row(int[] data, int row, int width)
    {
        for (int j = 0; j < width; j++) yield return data[row * width + j];
    }

    public EvalResult Evaluate()
    {
        var summary = RecommendationEvaluation.Evaluate(model, Split, EvaluationPeriod.Validation, device, options.EvalBatchSize);
        return new EvalResult(summary.MeanAveragePrecision, summary.ToMetrics());
    }
}
