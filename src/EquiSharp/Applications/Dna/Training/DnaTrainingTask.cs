using EquiSharp.Applications.Dna.Data;
using EquiSharp.Applications.Dna.Models;
using EquiSharp.Layers.ReverseComplement;
using EquiSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Dna.Training;

/// <summary>A training batch: sequence indices, and which of them are reverse complemented (augmentation) or null.</summary>
public sealed record DnaBatch(long[] Indices, bool[]? ReverseComplemented);

/// <summary>
/// Training as §3.4.1: binary cross-entropy over all tasks, epochs of <c>samplesPerEpoch</c> training sequences in
/// batches of <c>batchSize</c>, taken in order from a shuffled training set (a fresh seeded shuffle each pass, so an
/// epoch depends only on the run seed and its number — resume is exact); validation after each epoch, scored by the
/// mean auROC over tasks (the early-stopping criterion). With augmentation each training sequence is reverse
/// complemented with probability ½ (the paper's Fig. 4b baseline: same number of samples per epoch).
/// Optional positive-class weights (the ChIP-seq models' 5:1 etc., §3.4.2) scale the positive terms of the loss.
/// </summary>
public sealed class DnaTrainingTask : ITrainingTask<DnaBatch>
{
    private const int PassStream = 7, SubsetStream = 8;
    private readonly DnaConvNet model;
    private readonly DnaDataSet data;
    private readonly Device device;
    private readonly long[] train, valid;
    private readonly int seed, samplesPerEpoch, batchSize;
    private readonly bool augment;
    private readonly Tensor? positiveWeight;
    private readonly Dictionary<long, long[]> passes = new();

    public DnaTrainingTask(DnaConvNet model, DnaDataSet data, Device device, int seed, bool augment = false,
        int samplesPerEpoch = 5000, int batchSize = 500, double[]? positiveWeight = null, double trainFraction = 1.0)
    {
        this.model = model; this.data = data; this.device = device; this.seed = seed; this.augment = augment;
        this.samplesPerEpoch = samplesPerEpoch; this.batchSize = batchSize;
        train = TrainingSubset(data.Indices(DnaDataSet.Train), trainFraction, seed);
        valid = data.Indices(DnaDataSet.Valid);
        if (train.Length == 0) throw new ArgumentException("the training split is empty.");
        if (valid.Length == 0) throw new ArgumentException("the validation split is empty (it drives early stopping).");
        if (samplesPerEpoch <= 0 || batchSize <= 0) throw new ArgumentException("samples per epoch and batch size must be positive.");
        if (positiveWeight is not null)
        {
            if (positiveWeight.Length != data.TaskNames.Length) throw new ArgumentException($"{positiveWeight.Length} positive weights for {data.TaskNames.Length} tasks.");
            this.positiveWeight = torch.tensor(positiveWeight.Select(w => (float)w).ToArray(), device: device);
        }
    }

    /// <summary>
    /// The first ⌈fraction·n⌉ training indices of a permutation drawn from <paramref name="seed"/>, back in file order:
    /// for one seed the subsets are nested (5% ⊂ 10% ⊂ …), so a curve point differs from the next only by added data.
    /// </summary>
    public static long[] TrainingSubset(long[] train, double fraction, int seed)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentException($"the training fraction must be in (0, 1]; got {fraction}.");
        if (fraction == 1) return train;
        var order = (long[])train.Clone();
        new Random(Seeds.Derive(seed, SubsetStream, 0)).Shuffle(order);
        int keep = Math.Max(1, (int)Math.Ceiling(fraction * train.Length - 1e-9));
        var subset = order[..keep];
        Array.Sort(subset);
        return subset;
    }

    /// <summary>The training indices this run draws from.</summary>
    public long[] TrainIndices => train;

    public nn.Module Model => model;
    public long[] ValidIndices => valid;

    private long[] Pass(long pass)
    {
        if (!passes.TryGetValue(pass, out var order))
        {
            order = (long[])train.Clone();
            new Random(Seeds.Derive(seed, PassStream, (int)pass)).Shuffle(order);
            passes[pass] = order;
            passes.Remove(pass - 2);
        }
        return order;
    }

    public IReadOnlyList<DnaBatch> EpochBatches(int epoch, Random rng)
    {
        var batches = new List<DnaBatch>();
        for (int start = 0; start < samplesPerEpoch; start += batchSize)
        {
            int size = Math.Min(batchSize, samplesPerEpoch - start);
            var idx = new long[size];
            for (int j = 0; j < size; j++)
            {
                long global = (long)epoch * samplesPerEpoch + start + j;
                idx[j] = Pass(global / train.Length)[global % train.Length];
            }
            batches.Add(new DnaBatch(idx, augment ? idx.Select(_ => rng.NextDouble() < 0.5).ToArray() : null));
        }
        return batches;
    }

    public Tensor Loss(DnaBatch batch)
    {
        var x = data.OneHot(batch.Indices, device);
        if (batch.ReverseComplemented is bool[] flip)
        {
            var mask = torch.tensor(flip, device: device).view(-1, 1, 1);
            x = where(mask, ReverseComplementTies.Apply(x), x);
        }
        var y = data.LabelsOf(batch.Indices, device);
        var logits = model.forward(x);
        if (positiveWeight is null) return nn.functional.binary_cross_entropy_with_logits(logits, y);
        return nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weights: positiveWeight);
    }

    public EvalResult Evaluate()
    {
        var scores = DnaEvaluation.Score(model, data, valid, device);
        return new EvalResult(scores.MeanAuRoc, scores.AsMetrics());
    }
}
