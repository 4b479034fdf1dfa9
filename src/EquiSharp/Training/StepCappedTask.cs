using static TorchSharp.torch;

namespace EquiSharp.Training;

/// <summary>
/// Applies a step cap at epoch granularity: epoch e gets the first clamp(N − e·S, 0, S) of its S batches, so a capped
/// (smoke) run still ends on an epoch boundary with a dev evaluation and a best model, and the batches of an epoch
/// still depend only on the epoch and its seed (exact resume). Any application can wrap its task in it.
/// </summary>
public sealed class StepCappedTask<TBatch>(ITrainingTask<TBatch> inner, long? maxSteps) : ITrainingTask<TBatch>
{
    private int? stepsPerEpoch;

    public nn.Module Model => inner.Model;

    private int StepsPerEpoch(int seed) => stepsPerEpoch ??= inner.EpochBatches(0, new Random(Trainer.EpochSeed(seed, 0))).Count;

    /// <summary>Epochs to run: all of them without a cap, else just enough to reach the cap.</summary>
    public int EpochsFor(int epochs, int seed)
    {
        if (maxSteps is not long cap) return epochs;
        if (cap <= 0) throw new ArgumentException($"--max-steps {cap}: expected a positive number.");
        long s = Math.Max(1, StepsPerEpoch(seed));
        return (int)Math.Min(epochs, (cap + s - 1) / s);
    }

    public IReadOnlyList<TBatch> EpochBatches(int epoch, Random rng)
    {
        var all = inner.EpochBatches(epoch, rng);
        if (maxSteps is not long cap) return all;
        long allowed = Math.Clamp(cap - (long)epoch * all.Count, 0, all.Count);
        return all.Take((int)allowed).ToList();
    }

    public Tensor Loss(TBatch batch) => inner.Loss(batch);
    public EvalResult Evaluate() => inner.Evaluate();
}
