using EquiSharp.Layers.Pairwise;
using EquiSharp.Verification;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.Pairwise;

public class PairBatchNormTests
{
    [Fact]
    public void WithoutMaskItEqualsBatchNorm2dInTrainAndEval()
    {
        var ours = new PairBatchNorm2d(3);
        var theirs = nn.BatchNorm2d(3);
        var x = randn(4, 3, 9, 9).mul(KeptScalar.Of(3)).add(KeptScalar.Of(1), KeptScalar.One);
        Assert.True(Deviation.Relative(ours.forward(x), theirs.forward(x)) < 1e-5);
        ours.eval(); theirs.eval();
        Assert.True(Deviation.Relative(ours.forward(x), theirs.forward(x)) < 1e-5);
    }

    [Fact]
    public void MaskedStatisticsIgnorePaddingAndEqualTheUnpaddedBatch()
    {
        var lengths = tensor(new long[] { 6, 4 });
        var mask = PairMask.FromLengths(lengths, 6);
        var x = randn(2, 3, 6, 6);
        var garbage = (x * mask).add((mask.neg().add(KeptScalar.Of(1), KeptScalar.One)).mul(KeptScalar.Of(1e4f)), KeptScalar.One);
        var bn = new PairBatchNorm2d(3);
        var y = bn.forward(garbage, mask);
        Assert.Equal(0f, (y * (mask.neg().add(KeptScalar.Of(1), KeptScalar.One))).abs().max().item<float>());
        // statistics over valid entries only: the same as normalising the concatenated valid entries
        var valid = cat(new[] { x[0].reshape(3, -1), x[1, .., ..4, ..4].reshape(3, -1) }, 1);
        var expected = (valid - valid.mean(new long[] { 1 }, keepdim: true)) / (valid.var(new long[] { 1 }, unbiased: false, keepdim: true).add(KeptScalar.Of(1e-5), KeptScalar.One)).sqrt();
        var got = cat(new[] { y[0].reshape(3, -1), y[1, .., ..4, ..4].reshape(3, -1) }, 1);
        Assert.True(Deviation.Relative(got, expected) < 1e-5);
    }
}

public class PairBatchNormStatisticsTests
{
    private static (Tensor Y, Tensor RunningMean, Tensor RunningVar) TrainStep(PairNormStatistics statistics, Tensor x, Tensor? mask)
    {
        var bn = new PairBatchNorm2d(3) { Statistics = statistics };
        using (no_grad()) bn.Bias.fill_(KeptScalar.Of(0.25f));
        var y = bn.forward(x, mask);
        return (y, bn.RunningMean.clone(), bn.RunningVar.clone());
    }

    [Fact]
    public void MirroredUpperStatisticsDoNotSeeTheLowerTriangle()
    {
        // a CNN's lower triangle is never supervised: changing it must change neither the batch statistics (running
        // mean and variance) nor the normalised upper triangle; whole-block statistics do see it (the test can fail)
        manual_seed(41);
        var lengths = tensor(new long[] { 7, 5 });
        var mask = PairMask.FromLengths(lengths, 7);
        var x = randn(2, 3, 7, 7).mul(KeptScalar.Of(2)).add(KeptScalar.Of(1), KeptScalar.One);
        var lower = ones(7, 7).tril(-1);
        var moved = x.add(lower * (randn(2, 3, 7, 7).mul(KeptScalar.Of(5)).add(KeptScalar.Of(3), KeptScalar.One)), KeptScalar.One);
        var upperAndDiagonal = mask * ones(7, 7).triu();
        foreach (var m in new[] { mask, null })
        {
            var a = TrainStep(PairNormStatistics.MirroredUpper, x, m);
            var b = TrainStep(PairNormStatistics.MirroredUpper, moved, m);
            Assert.True(Deviation.Relative(a.RunningMean, b.RunningMean) < 1e-6);
            Assert.True(Deviation.Relative(a.RunningVar, b.RunningVar) < 1e-6);
            Assert.True(Deviation.Relative(a.Y * upperAndDiagonal, b.Y * upperAndDiagonal) < 1e-5);
            var wholeA = TrainStep(PairNormStatistics.WholeBlock, x, m);
            var wholeB = TrainStep(PairNormStatistics.WholeBlock, moved, m);
            Assert.True(Deviation.Relative(wholeA.RunningMean, wholeB.RunningMean) > 1e-2);
        }
        Assert.Equal(0f, (TrainStep(PairNormStatistics.MirroredUpper, x, mask).Y * (mask.neg().add(KeptScalar.Of(1), KeptScalar.One))).abs().max().item<float>()); // still zero outside the blocks
    }

    [Fact]
    public void MirroredUpperStatisticsOfASymmetricMapAreTheWholeBlocks()
    {
        // the CNN's statistics cover what the SCNN's cover: the map mirrored from the upper triangle
        manual_seed(42);
        var lengths = tensor(new long[] { 6, 4 });
        var mask = PairMask.FromLengths(lengths, 6);
        var x = randn(2, 3, 6, 6).mul(KeptScalar.Of(2)).add(KeptScalar.Of(1), KeptScalar.One);
        var symmetric = (x.add(x.transpose(2, 3), KeptScalar.One)) * mask;
        var mirrored = TrainStep(PairNormStatistics.MirroredUpper, symmetric, mask);
        var whole = TrainStep(PairNormStatistics.WholeBlock, symmetric, mask);
        Assert.True(Deviation.Relative(mirrored.Y, whole.Y) < 1e-5);
        Assert.True(Deviation.Relative(mirrored.RunningMean, whole.RunningMean) < 1e-5);
        Assert.True(Deviation.Relative(mirrored.RunningVar, whole.RunningVar) < 1e-5);
        // a map mirrored from an asymmetric one's upper triangle gives that one's mirrored-upper statistics
        var upper = x.triu(1);
        var fromUpper = (upper.add(upper.transpose(2, 3), KeptScalar.One).add(x.diagonal(0, 2, 3).diag_embed(0, 2, 3), KeptScalar.One)) * mask;
        Assert.True(Deviation.Relative(TrainStep(PairNormStatistics.MirroredUpper, x * mask, mask).RunningMean,
            TrainStep(PairNormStatistics.WholeBlock, fromUpper, mask).RunningMean) < 1e-5);
    }
}

public class PairBatchNormContractTests
{
    [Fact]
    public void DenseModuleIsAnEvalModeBatchNorm2dWithTheSameOutput()
    {
        manual_seed(31);
        var bn = new PairBatchNorm2d(3, eps: 1e-3, momentum: 0.2);
        using (no_grad())
        {
            bn.Weight.uniform_(0.5, 2);
            bn.Bias.normal_();
        }
        var lengths = tensor(new long[] { 7, 5 });
        for (int step = 0; step < 3; step++) bn.forward(randn(2, 3, 7, 7).mul(KeptScalar.Of(2)).add(KeptScalar.Of(1), KeptScalar.One), PairMask.FromLengths(lengths, 7));
        var dense = Assert.IsType<TorchSharp.Modules.BatchNorm2d>(bn.ToDenseModule());
        Assert.False(dense.training);
        Assert.Equal(1e-3, dense.eps, 12);
        Assert.Equal(0.2, dense.momentum!.Value, 12);
        Assert.Equal(0f, (dense.running_mean! - bn.RunningMean).abs().max().item<float>());
        Assert.Equal(0f, (dense.running_var! - bn.RunningVar).abs().max().item<float>());
        Assert.True(bn.RunningMean.abs().max().item<float>() > 0.1);   // non-trivial statistics were exported
        bn.eval();
        var x = randn(4, 3, 9, 9).mul(KeptScalar.Of(3)).add(KeptScalar.Of(1), KeptScalar.One);
        using (no_grad())
            Assert.True(Deviation.Relative(dense.forward(x), bn.forward(x)) < 1e-5);
        // a fresh BatchNorm2d (default statistics) would differ: the export carries state
        var fresh = nn.BatchNorm2d(3);
        fresh.eval();
        using (no_grad())
            Assert.True(Deviation.Relative(fresh.forward(x), bn.forward(x)) > 1e-2);
    }

    [Fact]
    public void MeasuringLeavesStatisticsAndModeUnchanged()
    {
        var bn = PairwiseContractCases.TrainedBatchNorm();
        bn.train();
        var mean = bn.RunningMean.clone();
        var variance = bn.RunningVar.clone();
        Assert.True(bn.MeasureEquivariance(8, new Generator(2)) <= 1e-5);
        Assert.True(bn.training);
        Assert.Equal(0f, (bn.RunningMean - mean).abs().max().item<float>());
        Assert.Equal(0f, (bn.RunningVar - variance).abs().max().item<float>());
    }
}
