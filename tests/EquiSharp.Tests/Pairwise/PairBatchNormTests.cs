using EquiSharp.Pairwise;
using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Pairwise;

public class PairBatchNormTests
{
    [Fact]
    public void WithoutMaskItEqualsBatchNorm2dInTrainAndEval()
    {
        var ours = new PairBatchNorm2d(3);
        var theirs = nn.BatchNorm2d(3);
        var x = randn(4, 3, 9, 9) * 3 + 1;
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
        var garbage = x * mask + (1 - mask) * 1e4f;
        var bn = new PairBatchNorm2d(3);
        var y = bn.forward(garbage, mask);
        Assert.Equal(0f, (y * (1 - mask)).abs().max().item<float>());
        // statistics over valid entries only: the same as normalising the concatenated valid entries
        var valid = cat(new[] { x[0].reshape(3, -1), x[1, .., ..4, ..4].reshape(3, -1) }, 1);
        var expected = (valid - valid.mean(new long[] { 1 }, keepdim: true)) / (valid.var(new long[] { 1 }, unbiased: false, keepdim: true) + 1e-5).sqrt();
        var got = cat(new[] { y[0].reshape(3, -1), y[1, .., ..4, ..4].reshape(3, -1) }, 1);
        Assert.True(Deviation.Relative(got, expected) < 1e-5);
    }
}
