using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.ReverseComplement;

/// <summary>Exactness checks of the reverse-complement family (Shrikumar et al. §3.1) for <c>equisharp verify</c>.</summary>
[CheckFamily(Order = 30)]
public static class ReverseComplementChecks
{
    public static IEnumerable<EquivarianceCheck> All()
    {
        yield return new("rc.conv1d (4 -> 2x20, k=21): conv(rc(x)) = rc(conv(x))", () => Layer(() => new RcConv1d(4, 20, 21), 200, 1));
        yield return new("rc.conv1d (40 -> 2x8, k=14, stride 2): RC-structured input", () => Layer(() => new RcConv1d(40, 8, 14, stride: 2), 60, 2));
        yield return new("rc.batchnorm1d (40 channels, batch statistics): bn(rc(x)) = rc(bn(x))", () => Layer(() => new RcBatchNorm1d(40), 50, 3));
        yield return new("rc.maxpool1d (width 20, stride 20, length 180): pool(rc(x)) = rc(pool(x))", () => Layer(() => new RcMaxPool1d(20, 20, 180), 180, 4));
        yield return new("rc.weighted_sum (40 x 9): ws(rc(x)) = reversed ws(x)", () => Layer(() => new RcWeightedSum(40, 9), 9, 5));
        yield return new("rc.dense (40 -> 3): dense(reversed y) = dense(y)", () => Layer(() => new RcDense(40, 3), 1, 6));
    }

    private static double Layer(Func<IEquivariantModule> make, long size, ulong seed)
    {
        manual_seed((long)seed);
        var layer = make();
        try { return layer.MeasureEquivariance(size, new Generator(seed)); }
        finally { (layer as IDisposable)?.Dispose(); }
    }
}
