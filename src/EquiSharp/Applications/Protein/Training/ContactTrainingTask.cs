using EquiSharp.Applications.Protein.Evaluation;
using EquiSharp.Applications.Protein.Models;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Protein.Training;

/// <summary>Contact training hyperparameters (SCNN paper IV-C, except the crop and the epoch size, which it does not give).</summary>
public sealed record ContactTrainingOptions
{
    /// <summary>Each batch item is a random window of at most this many residues (the paper used chains of at most 100).</summary>
    public int Crop { get; init; } = 128;
    public int BatchSize { get; init; } = 10;
    /// <summary>Adam learning rate; null = the paper's: 2e-3 for the SCNN, 1e-3 for the CNN.</summary>
    public double? LearningRate { get; init; }
    /// <summary>L2 regularisation (Adam weight decay).</summary>
    public double L2 { get; init; } = 1e-5;
    /// <summary>Weight of contacts in the BCE.</summary>
    public double PositiveWeight { get; init; } = 5;
    /// <summary>
    /// Batches per epoch (an epoch ends with a dev evaluation). With ~21 training proteins a pass over them is only 2–3
    /// batches, so an epoch is a fixed number of full batches drawn from successive shuffles of the proteins.
    /// </summary>
    public int BatchesPerEpoch { get; init; } = 5;

    /// <summary>The learning rate actually used for a variant.</summary>
    public double LearningRateFor(bool symmetric) => LearningRate ?? (symmetric ? 2e-3 : 1e-3);

    /// <summary>Checks the values; messages name the option.</summary>
    public void Validate()
    {
        if (Crop < 8) throw new ArgumentException($"--crop {Crop}: expected at least 8 residues.");
        if (BatchSize < 1) throw new ArgumentException($"--batch {BatchSize}: expected a positive number.");
        if (BatchesPerEpoch < 1) throw new ArgumentException($"--batches-per-epoch {BatchesPerEpoch}: expected a positive number.");
        if (LearningRate is <= 0) throw new ArgumentException($"--lr {LearningRate}: expected a positive number.");
        if (L2 < 0 || PositiveWeight <= 0) throw new ArgumentException("L2 must be 0 or more and the positive weight positive.");
    }
}

/// <summary>
/// The protein application's plug-in for the shared <see cref="Trainer"/>: zero-padded batches of random crops, the
/// positive-weighted BCE on the upper triangle restricted to evaluable residue pairs
/// (<see cref="PairLoss.ResidueMaskedUpperTriangleWeightedBce"/>; Cβ &lt; 8 Å labels), and full-length dev scoring
/// whose selection score is the mean top-L/2 long-range precision (the top-L/5 list of 3 dev proteins holds only
/// ~15 pairs each, too few to choose weights on).
/// </summary>
public sealed class ContactTrainingTask : ITrainingTask<ContactCrop[]>
{
    private readonly ContactModel model;
    private readonly IReadOnlyList<ContactExample> train;
    private readonly IReadOnlyList<ContactExample> dev;
    private readonly ContactTrainingOptions options;
    private readonly Device device;

    public ContactTrainingTask(ContactModel model, IReadOnlyList<ContactExample> train, IReadOnlyList<ContactExample> dev, ContactTrainingOptions options, Device device)
    {
        if (train.Count == 0) throw new ArgumentException("The training set is empty.");
        options.Validate();
        this.model = model; this.train = train; this.dev = dev; this.options = options; this.device = device;
    }

    public nn.Module Model => model;

    /// <summary>BatchesPerEpoch × BatchSize crops: proteins from successive shuffles, each cropped at a random start.</summary>
    public IReadOnlyList<ContactCrop[]> EpochBatches(int epoch, Random rng)
    {
        var crops = new List<ContactCrop>();
        var order = Enumerable.Range(0, train.Count).ToArray();
        while (crops.Count < options.BatchesPerEpoch * options.BatchSize)
        {
            rng.Shuffle(order);
            foreach (int e in order.Take(options.BatchesPerEpoch * options.BatchSize - crops.Count))
            {
                int len = train[e].Length;
                crops.Add(len <= options.Crop ? new ContactCrop(e, 0, len) : new ContactCrop(e, rng.Next(0, len - options.Crop + 1), options.Crop));
            }
        }
        return crops.Chunk(options.BatchSize).ToList();
    }

    public Tensor Loss(ContactCrop[] batch)
    {
        var t = ContactBatch.Of(train, batch, device);
        var logits = model.Logits(t.Features, t.PairFeatures, t.Lengths);
        return PairLoss.ResidueMaskedUpperTriangleWeightedBce(logits, t.Labels, t.Mask, options.PositiveWeight);
    }

    public EvalResult Evaluate()
    {
        var summary = ContactSummary.Of(ContactPrediction.Evaluate(model, dev, device).Select(r => r.Beta).ToList());
        double score = double.IsFinite(summary.TopL2Long) ? summary.TopL2Long : 0;
        return new EvalResult(score, summary.ToMetrics());
    }
}
