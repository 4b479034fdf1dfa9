using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Applications.Rna;
using EquiSharp.Applications.Rna.Inference;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Applications.Rna.Synthetic;
using static TorchSharp.torch;
using EquiSharp.Runtime;
using EquiSharp.Training;

namespace EquiSharp.Tests.Applications.Rna;

[Collection("rna-serial")]
public sealed class RnaModelTests
{
    /// <summary>A model whose batch-norm layers have non-trivial running statistics and affine parameters, in eval mode.</summary>
    private static RnaPairModel TrainedLike(bool symmetric, PairActivation activation = PairActivation.ReLU, int seed = 3)
    {
        manual_seed(seed);
        var model = new RnaPairModel(RnaModelConfig.Small with { Activation = activation }, symmetric);
        using (no_grad())
        {
            foreach (var (name, buffer) in model.named_buffers())
            {
                if (name.EndsWith("running_mean")) buffer.copy_(randn(buffer.shape).mul(KeptScalar.Of(0.2)));
                if (name.EndsWith("running_var")) buffer.copy_(rand(buffer.shape).add(KeptScalar.Of(0.5), KeptScalar.One));
            }
            foreach (var (name, p) in model.named_parameters())
                if (name.Contains("norm")) p.add_(randn(p.shape).mul(KeptScalar.Of(0.3)), KeptScalar.One);
                else if (name.EndsWith("bias")) p.add_(randn(p.shape).mul(KeptScalar.Of(0.1)), KeptScalar.One);
        }
        foreach (var m in model.modules()) (m as EquiSharp.Symmetry.IMaterializedWeightCache)?.InvalidateCache();
        model.eval();
        return model;
    }

    private static double RelativeDifference(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a - b).abs().max().item<float>() / Math.Max(1e-12, b.abs().max().item<float>());
    }

    /// <summary>
    /// Dev scores must not depend on how windows are batched (the evaluation batch is its own option, two by default):
    /// padded batches of any size, and single windows, which take the in-place inference path, give the same
    /// probabilities — SCNN on packed and dense maps, and the CNN.
    /// </summary>
    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void DevProbabilitiesDoNotDependOnTheEvaluationBatch(bool symmetric, bool packed)
    {
        using var model = TrainedLike(symmetric);
        model.PackedMaps = packed;
        var records = SyntheticRna.Generate(5, 18, 41, seed: 8);
        var windows = records.Select((r, k) => new EquiSharp.Applications.Rna.RnaWindow(k, 0, r.Length)).ToList();
        var single = EquiSharp.Applications.Rna.Training.RnaEvaluation.PredictProbabilities(model, records, windows, 1, CPU);
        foreach (int batch in new[] { 2, 5 })
        {
            var batched = EquiSharp.Applications.Rna.Training.RnaEvaluation.PredictProbabilities(model, records, windows, batch, CPU);
            for (int w = 0; w < windows.Count; w++)
            {
                Assert.Equal(single[w].Length, batched[w].Length);
                double worst = single[w].Zip(batched[w], (a, b) => Math.Abs(a - b)).Max();
                Assert.True(worst <= 1e-5, $"window {w} (length {windows[w].Length}), batch {batch}: probabilities differ by {worst:E2}");
            }
        }
    }

    [Fact]
    public void PaperConfigParameterCountsArePinned()
    {
        using var cnn = new RnaPairModel(RnaModelConfig.Paper, symmetric: false);
        using var scnn = new RnaPairModel(RnaModelConfig.Paper, symmetric: true);
        // Ours (TorchSharp LSTM: b_ih and b_hh per gate). See docs/results/rna.md for the comparison with the paper.
        Assert.Equal(390_138, cnn.ParameterCount);
        Assert.Equal(239_918, scnn.ParameterCount);
        // Keras convention (one LSTM bias): 600 fewer.
        Assert.Equal(389_538, RnaParameterCounts.KerasEquivalent(cnn));
        Assert.Equal(239_318, RnaParameterCounts.KerasEquivalent(scnn));
        // BN γ/β (40+50+40+20+20+1 channels) and conv biases are the same in both variants.
        Assert.Equal(2 * 171, RnaParameterCounts.BatchNormAffine(cnn));
        Assert.Equal(2 * 171, RnaParameterCounts.BatchNormAffine(scnn));
        Assert.Equal(171, RnaParameterCounts.ConvBiases(cnn));
        Assert.Equal(171, RnaParameterCounts.ConvBiases(scnn));
        // The whole saving is in the tied kernels: C(C−1)/2·m·F per preserving conv plus the generating convs' halves.
        Assert.Equal(150_220, cnn.ParameterCount - scnn.ParameterCount);
    }

    [Theory]
    [InlineData(PairActivation.ReLU)]
    [InlineData(PairActivation.Sigmoid)]
    public void ScnnOutputIsSymmetricInEvalAndTrainMode(PairActivation activation)
    {
        using var model = TrainedLike(true, activation);
        using var scope = NewDisposeScope();
        var records = SyntheticRna.Generate(3, 20, 33, seed: 5);
        var windows = records.Select((r, k) => new RnaWindow(k, 0, r.Length)).ToList();
        var t = RnaFeatures.Batch(records, windows);
        using (no_grad())
        {
            var y = model.forward(t.OneHot, t.Lengths);
            Assert.True(RelativeDifference(y, y.transpose(1, 2)) < 1e-5);
            model.train();
            var z = model.forward(t.OneHot, t.Lengths);
            Assert.True(RelativeDifference(z, z.transpose(1, 2)) < 1e-5);
        }
    }

    [Fact]
    public void CnnOutputIsNotSymmetric()
    {
        using var model = TrainedLike(false);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var y = model.forward(RnaFeatures.OneHot("GGGAAACCCUUAGCGCAAAGCGCUAGG"));
        Assert.True(RelativeDifference(y, y.transpose(1, 2)) > 1e-3);
    }

    /// <summary>
    /// The SCNN on packed symmetric maps (issue: "the RNA model can train on packed maps") gives the dense network's
    /// logits, loss and every parameter gradient on a padded batch in training mode (batch statistics with length masks),
    /// and in eval mode, for both activations; three optimizer steps keep them equal.
    /// </summary>
    [Theory]
    [InlineData(PairActivation.ReLU)]
    [InlineData(PairActivation.Sigmoid)]
    public void PackedMapsGiveTheDenseLossesAndGradients(PairActivation activation)
    {
        var dense = TrainedLike(true, activation, seed: 5);
        var packed = TrainedLike(true, activation, seed: 5);
        packed.PackedMaps = true;
        dense.train(); packed.train();
        var records = SyntheticRna.Generate(3, 14, 33, seed: 12);
        var t = RnaFeatures.Batch(records, records.Select((r, k) => new RnaWindow(k, 0, r.Length)).ToList());
        var target = t.Labels;
        // SGD, not Adam: Adam would turn the rounding noise of the BN-cancelled conv biases into full-size, path-dependent steps
        var optD = Optimizers.Sgd(dense.parameters(), 0.05);
        var optP = Optimizers.Sgd(packed.parameters(), 0.05);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optD.zero_grad(); optP.zero_grad();
            var ld = PairLoss(dense.forward(t.OneHot, t.Lengths), target, t.Lengths);
            var lp = PairLoss(packed.forward(t.OneHot, t.Lengths), target, t.Lengths);
            ld.backward(); lp.backward();
            Assert.True(Math.Abs(ld.item<float>() - lp.item<float>()) <= 1e-4 * Math.Abs(ld.item<float>()), $"step {step}: loss {ld.item<float>()} vs {lp.item<float>()}");
            double floor = 1e-3 * dense.parameters().Max(q => q.grad is null ? 0 : q.grad.abs().max().item<float>());
            foreach (var (pd, pp) in dense.named_parameters().Zip(packed.named_parameters()))
            {
                if (pd.parameter.grad is null) continue;
                if (pd.name.EndsWith(".bias") && !pd.name.Contains("norm") && !pd.name.StartsWith("lstm") && !pd.name.StartsWith("dense"))
                {
                    // a conv bias followed by batch norm cancels: its true gradient is 0 and both paths give rounding noise
                    Assert.True(pp.parameter.grad!.abs().max().item<float>() <= floor && pd.parameter.grad.abs().max().item<float>() <= floor, $"{pd.name}: expected ≈ 0");
                    continue;
                }
                double dev = (pp.parameter.grad! - pd.parameter.grad).abs().max().item<float>() / Math.Max(pd.parameter.grad.abs().max().item<float>(), floor);
                Assert.True(dev <= 1e-4, $"step {step}: {pd.name} grad dev {dev}");
            }
            optD.step(); optP.step();
        }
        dense.eval(); packed.eval();
        using var _ = no_grad();
        Assert.True(RelativeDifference(packed.forward(t.OneHot, t.Lengths), dense.forward(t.OneHot, t.Lengths)) < 1e-4);
        Assert.Throws<InvalidOperationException>(() => new RnaPairModel(RnaModelConfig.Small, symmetric: false).PackedMaps = true);
    }

    /// <summary>
    /// What <c>rna train</c> runs by default: the paper-size SCNN (13×13 kernels, reach 6) on packed folded maps gives the
    /// dense network's logits and loss gradients (θ, γ, β, BiLSTM/dense) on a padded batch in training mode.
    /// </summary>
    [Fact]
    public void PaperSizePackedMapsAtReachSixGiveTheDenseLogitsAndGradients()
    {
        using var scope = NewDisposeScope();
        var blocks = RnaModelChecks.PackedVersusDense(RnaModelConfig.Paper, maxLength: 20, seed: 7);
        Assert.Equal(RnaModelChecks.Blocks.Length, blocks.Length);
        foreach (var (name, (packed, dense)) in RnaModelChecks.Blocks.Zip(blocks))
        {
            Assert.True(dense.abs().max().item<float>() > 0, $"{name}: nothing to compare");
            double dev = EquiSharp.Verification.Deviation.Relative(packed, dense);
            Assert.True(dev <= 1e-4, $"{name}: deviation {dev}");
        }
    }

    /// <summary>Mean BCE over valid upper-triangle pairs (a stand-in loss that depends on every logit of the block).</summary>
    private static Tensor PairLoss(Tensor logits, Tensor target, Tensor lengths)
    {
        long l = logits.shape[1];
        var mask = EquiSharp.Layers.Pairwise.PairMask.FromLengths(lengths, l).squeeze(1).triu(1);
        var bce = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction: nn.Reduction.None);
        return (bce * mask).sum() / mask.sum();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PaddedBatchBlocksEqualUnbatchedResultsInEvalMode(bool symmetric)
    {
        using var model = TrainedLike(symmetric, PairActivation.Sigmoid);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var records = SyntheticRna.Generate(3, 14, 40, seed: 11);
        var windows = records.Select((r, k) => new RnaWindow(k, 0, r.Length)).ToList();
        var t = RnaFeatures.Batch(records, windows);
        var batched = model.forward(t.OneHot, t.Lengths);
        long l = batched.shape[1];
        for (int b = 0; b < records.Count; b++)
        {
            int len = records[b].Length;
            var alone = model.forward(RnaFeatures.OneHot(records[b].Sequence))[0];
            var block = batched[b].narrow(0, 0, len).narrow(1, 0, len);
            Assert.True(RelativeDifference(block, alone) < 1e-5, $"sequence {b}: block differs from its unbatched result");
            if (len < l)
            {
                Assert.Equal(0f, batched[b].narrow(0, len, l - len).abs().max().item<float>());
                Assert.Equal(0f, batched[b].narrow(1, len, l - len).abs().max().item<float>());
            }
        }
    }

    [Theory]
    [InlineData(true, 7, PairActivation.ReLU)]
    [InlineData(true, 16, PairActivation.Sigmoid)]
    [InlineData(false, 7, PairActivation.ReLU)]
    [InlineData(false, 100, PairActivation.Sigmoid)]
    public void TiledInferenceEqualsPlainForward(bool symmetric, int tile, PairActivation activation)
    {
        using var model = TrainedLike(symmetric, activation);
        using var scope = NewDisposeScope();
        var rng = new Random(2);
        string seq = new string(Enumerable.Range(0, 37).Select(_ => "ACGUN"[rng.Next(5)]).ToArray());
        var x = RnaFeatures.OneHot(seq);
        Tensor plain;
        using (no_grad()) plain = model.forward(x)[0];
        var tiled = model.TiledLogits(x, new TiledInferenceOptions { TileSize = tile });
        Assert.Equal(plain.shape, tiled.shape);
        Assert.True(RelativeDifference(tiled, plain) < 1e-5, $"relative difference {RelativeDifference(tiled, plain)}");
        // the model's mode is restored
        Assert.False(model.training);
        var probs = model.TiledProbabilities(seq, CPU, new TiledInferenceOptions { TileSize = tile, UseSymmetry = false });
        Assert.True(RelativeDifference(tensor(probs).view(37, 37), nn.functional.sigmoid(plain)) < 1e-5);
    }

    [Fact]
    public void ModelSpecRoundTripsThroughJson()
    {
        using var dir = new TempDir();
        var spec = RnaModelSpec.From("cnn", RnaModelConfig.Small with { Activation = PairActivation.Sigmoid });
        spec.Save(dir.Path);
        var back = RnaModelSpec.Load(dir.Path);
        Assert.False(back.Symmetric);
        var config = back.ToConfig();
        Assert.Equal(PairActivation.Sigmoid, config.Activation);
        Assert.Equal(RnaModelConfig.Small.Stages.Select(s => s.ToArray()), config.Stages.Select(s => s.ToArray()));
        using var a = new RnaPairModel(RnaModelConfig.Small, false);
        using var b = back.Build();
        Assert.Equal(a.ParameterCount, b.ParameterCount);
    }

    [Fact]
    public void PredictionDotBracketDropsOnlyPairsBeyondTheLastLevel()
    {
        // 32 mutually crossing pairs (i, 32 + i) need 32 levels; the notation has 30
        var partners = Enumerable.Range(0, 64).Select(i => i < 32 ? i + 32 : i - 32).ToArray();
        string db = PredictionDotBracket.Format(partners, out int dropped);
        Assert.Equal(2, dropped);
        var back = EquiSharp.Applications.Rna.Formats.DotBracket.Parse(db);
        Assert.Equal(30, back.Count(p => p >= 0) / 2);
        Assert.All(Enumerable.Range(0, 64).Where(i => back[i] >= 0), i => Assert.Equal(partners[i], back[i]));
        Assert.Equal("((..))", PredictionDotBracket.Format(new[] { 5, 4, -1, -1, 1, 0 }, out int none));
        Assert.Equal(0, none);
    }
}
