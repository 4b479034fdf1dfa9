using EquiSharp.Metrics;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Applications.Rna.Training;
using EquiSharp.Training;
using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Synthetic;

/// <summary>Settings of the built-in demo: a small SCNN and a matched CNN on synthetic RNA-like pairing data.</summary>
public sealed record RnaDemoOptions
{
    public int TrainCount { get; init; } = 640;
    public int DevCount { get; init; } = 64;
    public int TestCount { get; init; } = 96;
    public int MinLength { get; init; } = 24;
    public int MaxLength { get; init; } = 48;
    public int Epochs { get; init; } = 8;
    public long? MaxSteps { get; init; }
    public int Seed { get; init; } = 1;
    public int BatchSize { get; init; } = 16;
    public double LearningRate { get; init; } = 5e-3;
    public string OutDir { get; init; } = "equisharp-demo";
    public Device Device { get; init; } = CPU;
    /// <summary>Architecture shared by both models (matched hyperparameters).</summary>
    public RnaModelConfig Model { get; init; } = RnaModelConfig.Small;
}

/// <summary>One trained model of the demo.</summary>
public sealed record RnaDemoModelResult(string Name, long Parameters, double TrainSeconds, long Steps, PairScoreSummary Test, double OutputAsymmetry);

/// <summary>The demo's outcome: one row per model and the heatmap path.</summary>
public sealed record RnaDemoResult(IReadOnlyList<RnaDemoModelResult> Models, string HeatmapPath);

/// <summary>
/// The main job on an embedded default: trains a small symmetric CNN (SCNN) and the matched plain CNN on synthetic
/// hairpin structures with the shared trainer, selects each model's best epoch on a dev set, scores it once on a separate
/// test set (PPV, sensitivity, accuracy as in SCNN IV-B) and draws predicted vs true pairing matrices.
/// </summary>
public static class RnaDemo
{
    public static RnaDemoResult Run(RnaDemoOptions o, ITrainingProgress progress)
    {
        var train = SyntheticRna.Generate(o.TrainCount, o.MinLength, o.MaxLength, o.Seed);
        var dev = SyntheticRna.Generate(o.DevCount, o.MinLength, o.MaxLength, o.Seed + 1000);   // model selection
        var test = SyntheticRna.Generate(o.TestCount, o.MinLength, o.MaxLength, o.Seed + 2000); // reported once, at the end
        var options = new RnaTrainingOptions { Crop = o.MaxLength, BatchSize = o.BatchSize, LearningRate = o.LearningRate, DevMaxLength = o.MaxLength };
        var results = new List<RnaDemoModelResult>();
        float[]? scnnProbs = null;
        foreach (bool symmetric in new[] { true, false })
        {
            string name = symmetric ? "SCNN" : "CNN";
            manual_seed(o.Seed);
            var model = new RnaPairModel(o.Model, symmetric, o.Device);
            var task = new RnaTrainingTask(model, train, dev, options, o.Device);
            var optimizer = Optimizers.Adam(model.parameters(), o.LearningRate, weightDecay: options.L2);
            string modelDir = Path.Combine(o.OutDir, name.ToLowerInvariant());
            var fit = Trainer.Fit(task, optimizer, new TrainerOptions
            {
                Epochs = o.Epochs, MaxSteps = o.MaxSteps, Seed = o.Seed, Patience = null, OutDir = modelDir, Title = $"demo {name}",
            }, progress);
            Checkpoint.Load(modelDir, model, restoreRng: false, name: Checkpoint.BestName); // the epoch with the best dev score
            var windows = test.Select((r, k) => new RnaWindow(k, 0, r.Length)).ToList();
            var (_, summary, _) = RnaEvaluation.Evaluate(model, test, windows, options.Decoder, o.BatchSize, o.Device);
            double asym;
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                model.eval();
                var t = RnaFeatures.Batch(test, windows.Take(8).ToList(), o.Device);
                asym = Deviation.Asymmetry(model.forward(t.OneHot, t.Lengths));
            }
            results.Add(new RnaDemoModelResult(name, model.ParameterCount, fit.State.TrainSeconds, fit.State.Step, summary, asym));
            if (symmetric) scnnProbs = RnaEvaluation.PredictProbabilities(model, test, windows.Take(1).ToList(), 1, o.Device)[0];
            if (fit.Interrupted) break;
        }
        string heatmap = Path.Combine(o.OutDir, "demo-heatmap.png");
        var first = test[0];
        Plots.PairHeatmap(heatmap, scnnProbs!, first.Length,
            $"{first.Name}: SCNN pair probabilities (upper) vs true pairs (lower)", RnaFeatures.PairingMatrix(first));
        return new RnaDemoResult(results, heatmap);
    }
}
