using EquiSharp.Metrics;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Applications.Rna.Decoding;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Inference;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Training;

/// <summary>RNA training hyperparameters (SCNN paper IV-B defaults).</summary>
public sealed record RnaTrainingOptions
{
    /// <summary>Each batch item is a random window of at most this many nucleotides.</summary>
    public int Crop { get; init; } = 128;
    /// <summary>Crops by optimizer step (a curriculum); null = <see cref="Crop"/> throughout.</summary>
    public CropSchedule? CropSchedule { get; init; }
    public int BatchSize { get; init; } = 10;
    /// <summary>Batch records of similar length (<see cref="RnaTrainingTask.EpochBatches"/>), so little of a batch is padding.</summary>
    public bool LengthBuckets { get; init; }
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>L2 regularisation (Adam weight decay).</summary>
    public double L2 { get; init; } = 1e-5;
    /// <summary>Weight of positive pairs in the BCE.</summary>
    public double PositiveWeight { get; init; } = 5;
    /// <summary>
    /// Dev windows predicted at once, apart from the training batch: at crop 128 (256-nt dev windows) two at a time
    /// kept the dev evaluation within the training's memory (peak 619 against 741 MB with four) at the same speed
    /// (55 windows: 4.9 against 4.8 s per process); one at a time takes the in-place inference path, leaner still but
    /// 35 % slower there.
    /// </summary>
    public int EvaluationBatchSize { get; init; } = 2;
    /// <summary>Dev sequences are truncated to this length (cheap enough to evaluate every epoch).</summary>
    public int DevMaxLength { get; init; } = 256;
    /// <summary>The dev windows scored every epoch (e.g. <see cref="RnaDevWindows.Draw"/>); null = the first <see cref="DevMaxLength"/> nt of each.</summary>
    public IReadOnlyList<RnaWindow>? DevWindows { get; init; }

    /// <summary>The crop schedule in force: <see cref="CropSchedule"/>, or <see cref="Crop"/> from step 0.</summary>
    public CropSchedule Crops => CropSchedule ?? global::EquiSharp.Applications.Rna.Training.CropSchedule.Constant(Crop);
    public GreedyDecoderOptions Decoder { get; init; } = new();
}

/// <summary>The RNA application's plug-in for the shared <see cref="Trainer"/>: random crops, weighted BCE, dev PPV/sensitivity.</summary>
public sealed class RnaTrainingTask : ITrainingTask<RnaWindow[]>
{
    private readonly RnaPairModel model;
    private readonly IReadOnlyList<RnaStructure> train;
    private readonly IReadOnlyList<RnaStructure> dev;
    private readonly RnaTrainingOptions options;
    private readonly Device device;

    public RnaTrainingTask(RnaPairModel model, IReadOnlyList<RnaStructure> train, IReadOnlyList<RnaStructure> dev, RnaTrainingOptions options, Device device)
    {
        if (train.Count == 0) throw new ArgumentException("The training set is empty.");
        this.model = model; this.train = train; this.dev = dev; this.options = options; this.device = device;
    }

    public TorchSharp.torch.nn.Module Model => model;

    /// <summary>
    /// Shuffled records, each cut to a random window of the crop in force at its batch's step: batch b of epoch e is
    /// step e·⌈N / batch⌉ + b (every epoch has the same batches), so the crops follow the schedule on resume too.
    /// With <see cref="RnaTrainingOptions.LengthBuckets"/> the shuffled records are sorted by length within pools of
    /// <see cref="BucketPoolBatches"/> batches, cut into batches, and the batches shuffled: a batch pads to its longest
    /// window, so similar lengths waste little compute, while the pools keep the order random at the scale of an epoch.
    /// </summary>
    public IReadOnlyList<RnaWindow[]> EpochBatches(int epoch, Random rng)
    {
        var order = Enumerable.Range(0, train.Count).ToArray();
        rng.Shuffle(order);
        int size = options.BatchSize;
        var batches = order.Chunk(size).ToArray();
        if (options.LengthBuckets)
        {
            batches = order.Chunk(size * BucketPoolBatches)
                .SelectMany(pool => pool.OrderBy(r => train[r].Length).Chunk(size)).ToArray();
            rng.Shuffle(batches);
        }
        var crops = options.Crops;
        long firstStep = (long)epoch * batches.Length;
        return batches.Select((records, b) =>
        {
            int crop = crops.CropAt(firstStep + b);
            return records.Select(r =>
            {
                int len = train[r].Length;
                return len <= crop ? new RnaWindow(r, 0, len) : new RnaWindow(r, rng.Next(0, len - crop + 1), crop);
            }).ToArray();
        }).ToList();
    }

    /// <summary>Batches per length-sorting pool of <see cref="RnaTrainingOptions.LengthBuckets"/>.</summary>
    public const int BucketPoolBatches = 50;

    public Tensor Loss(RnaWindow[] batch)
    {
        var t = RnaFeatures.Batch(train, batch, device);
        var logits = model.forward(t.OneHot, t.Lengths);
        return PairLoss.UpperTriangleWeightedBce(logits, t.Labels, t.Lengths, options.PositiveWeight);
    }

    public EvalResult Evaluate()
    {
        Runtime.PhaseLog.Mark("training steps");
        var windows = options.DevWindows ?? RnaDevWindows.Prefixes(dev, options.DevMaxLength).Windows;
        var summary = RnaEvaluation.Evaluate(model, dev, windows, options.Decoder, options.EvaluationBatchSize, device).Summary;
        Runtime.PhaseLog.Mark("dev evaluation");
        return new EvalResult(summary.Accuracy, RnaEvaluation.ToMetrics(summary));
    }
}

/// <summary>Prediction and scoring of RNA pair maps, shared by training (dev), eval and predict.</summary>
public static class RnaEvaluation
{
    /// <summary>Pair probabilities (row-major L×L per window), predicted in length-sorted padded batches.</summary>
    public static List<float[]> PredictProbabilities(RnaPairModel model, IReadOnlyList<RnaStructure> records, IReadOnlyList<RnaWindow> windows,
        int batchSize, Device device)
    {
        var result = new float[windows.Count][];
        var order = Enumerable.Range(0, windows.Count).OrderBy(k => windows[k].Length).ToArray();
        bool wasTraining = model.training;
        model.eval();
        using (no_grad())
            foreach (var chunk in order.Chunk(Math.Max(1, batchSize)))
            {
                using var scope = NewDisposeScope();
                var batch = chunk.Select(k => windows[k]).ToList();
                var t = RnaFeatures.Batch(records, batch, device);
                var probs = nn.functional.sigmoid(model.forward(t.OneHot, t.Lengths)).cpu();
                long l = probs.shape[1];
                for (int b = 0; b < chunk.Length; b++)
                {
                    int len = batch[b].Length;
                    var block = probs[b].narrow(0, 0, len).narrow(1, 0, len).contiguous();
                    result[chunk[b]] = block.data<float>().ToArray();
                }
            }
        model.train(wasTraining);
        return result.ToList();
    }

    /// <summary>Decodes every window greedily and scores it against the window's true pairs.</summary>
    public static (List<PairScores> PerSequence, PairScoreSummary Summary, List<int[]> Predicted) Evaluate(RnaPairModel model,
        IReadOnlyList<RnaStructure> records, IReadOnlyList<RnaWindow> windows, GreedyDecoderOptions decoder, int batchSize, Device device)
    {
        var probs = PredictProbabilities(model, records, windows, batchSize, device);
        var greedy = new GreedyPairDecoder(decoder);
        var predicted = new List<int[]>();
        var scores = new List<PairScores>();
        for (int k = 0; k < windows.Count; k++)
        {
            var w = windows[k];
            var r = records[w.Record];
            string seq = r.Sequence.Substring(w.Start, w.Length);
            var pred = greedy.Decode(RnaPredictor.DecodingMap(model, probs[k], w.Length), w.Length, seq);
            var truth = new int[w.Length];
            for (int p = 0; p < w.Length; p++)
            {
                int q = r.Partners[w.Start + p] - w.Start;
                truth[p] = q >= 0 && q < w.Length ? q : -1;
            }
            predicted.Add(pred);
            scores.Add(PairMetrics.Compute(pred, truth));
        }
        return (scores, PairMetrics.Average(scores), predicted);
    }


    /// <summary>Metric dictionary (ppv, sen, acc, f1, mcc) for histories and curves.</summary>
    public static Dictionary<string, double> ToMetrics(PairScoreSummary s) => new()
    {
        ["ppv"] = s.Ppv, ["sen"] = s.Sensitivity, ["acc"] = s.Accuracy, ["f1"] = s.F1, ["mcc"] = s.Mcc,
    };
}
