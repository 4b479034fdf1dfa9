using EquiSharp.Applications.Dna.Models;
using EquiSharp.Layers;
using EquiSharp.Layers.ReverseComplement;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.ReverseComplement;

public sealed class ReverseComplementLayerTests
{
    /// <summary>Random one-hot ACGT sequences (B, 4, L).</summary>
    internal static Tensor OneHot(long batch, long length, Generator gen) =>
        nn.functional.one_hot(randint(0, 4, new[] { batch, length }, generator: gen), 4).permute(0, 2, 1).to(ScalarType.Float32);

    /// <summary>Reverse complement written out for ACGT one-hot: position l of the RC is the complement of base L−1−l.</summary>
    private static float[,,] ReverseComplementByLoops(float[,,] x)
    {
        int b = x.GetLength(0), n = x.GetLength(1), l = x.GetLength(2);
        var y = new float[b, n, l];
        for (int i = 0; i < b; i++) for (int c = 0; c < n; c++) for (int p = 0; p < l; p++) y[i, c, p] = x[i, n - 1 - c, l - 1 - p];
        return y;
    }

    private static float[,,] ToArray3(Tensor t)
    {
        var a = t.detach().contiguous().data<float>().ToArray();
        int b = (int)t.shape[0], n = (int)t.shape[1], l = (int)t.shape[2];
        var r = new float[b, n, l];
        for (int i = 0; i < b; i++) for (int c = 0; c < n; c++) for (int p = 0; p < l; p++) r[i, c, p] = a[(i * n + c) * l + p];
        return r;
    }

    [Fact]
    public void ParameterCountsReproduceSection341()
    {
        var tasks = new[] { "a", "b", "c" };
        using var standard = new DnaConvNet(DnaModelSpec.Simulated("standard", 20, tasks));
        using var rc = new DnaConvNet(DnaModelSpec.Simulated("rc", 20, tasks));
        Assert.Equal(2283, standard.FreeParameterCount);
        Assert.Equal(1983, rc.FreeParameterCount);
        // layer by layer, §3.4.1: conv 20·(4·21+1), BN 40·2/2, weighted sum (180/20)·40/2, dense ((40/2)+1)·3
        using var conv = new RcConv1d(4, 20, 21);
        using var bn = new RcBatchNorm1d(40);
        using var ws = new RcWeightedSum(40, 9);
        using var dense = new RcDense(40, 3);
        Assert.Equal(20 * (4 * 21 + 1), conv.FreeParameterCount);
        Assert.Equal(40, bn.FreeParameterCount);
        Assert.Equal(180, ws.FreeParameterCount);
        Assert.Equal(63, dense.FreeParameterCount);
        Assert.Equal(40 * (4 * 21 + 1), conv.DenseParameterCount());
    }

    [Fact]
    public void TieRelationsHoldEntryByEntry()
    {
        manual_seed(3);
        using var conv = new RcConv1d(6, 5, 4);
        var w = conv.Weight().detach().data<float>().ToArray();
        var b = conv.BiasVector()!;
        using (no_grad()) conv.TiedBias!.Theta.normal_();
        conv.InvalidateCache();
        var bias = conv.BiasVector()!.detach().data<float>().ToArray();
        int outC = 10, inC = 6, k = 4;
        var distinct = new HashSet<float>();
        for (int o = 0; o < outC; o++) for (int c = 0; c < inC; c++) for (int t = 0; t < k; t++)
        {
            float v = w[(o * inC + c) * k + t];
            Assert.Equal(v, w[((outC - 1 - o) * inC + (inC - 1 - c)) * k + (k - 1 - t)]);
            distinct.Add(v);
        }
        Assert.Equal(5 * 6 * 4, distinct.Count);   // no ties beyond the RC pairs
        for (int o = 0; o < outC; o++) Assert.Equal(bias[o], bias[outC - 1 - o]);
        Assert.Equal(5, bias.Distinct().Count());

        using var ws = new RcWeightedSum(8, 7);
        var sw = ws.Weight().detach().data<float>().ToArray();
        for (int c = 0; c < 8; c++) for (int i = 0; i < 7; i++) Assert.Equal(sw[c * 7 + i], sw[(8 - 1 - c) * 7 + (7 - 1 - i)]);
        Assert.Equal(8 * 7 / 2, sw.Distinct().Count());

        using var dense = new RcDense(8, 3);
        var dw = dense.Weight().detach().data<float>().ToArray();
        for (int j = 0; j < 3; j++) for (int i = 0; i < 8; i++) Assert.Equal(dw[j * 8 + i], dw[j * 8 + (8 - 1 - i)]);
        Assert.Equal(3 * 4, dw.Distinct().Count());
    }

    [Theory]
    [InlineData(4, 3, 21, 1, 200)]
    [InlineData(6, 2, 4, 1, 30)]     // even width, RC-structured (non-ACGT) input
    [InlineData(4, 3, 5, 3, 29)]     // stride 3 with (29 − 5) divisible by 3
    public void ConvolutionOutputChannelOfRcInputIsRcOfPartnerChannel(long inC, long filters, long k, long stride, long length)
    {
        manual_seed(4);
        var gen = new Generator(11);
        using var conv = new RcConv1d(inC, filters, k, stride);
        using (no_grad()) conv.TiedBias!.Theta.normal_();
        conv.InvalidateCache();
        var x = inC == 4 ? OneHot(2, length, gen) : randn(new[] { 2, inC, length }, generator: gen);
        var y = ToArray3(conv.forward(x));
        var yRc = ToArray3(conv.forward(torch.tensor(Flatten(ReverseComplementByLoops(ToArray3(x))), x.shape)));
        int n = y.GetLength(1), p = y.GetLength(2);
        double maxAbs = 0, maxDiff = 0;
        for (int b = 0; b < 2; b++) for (int o = 0; o < n; o++) for (int q = 0; q < p; q++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(y[b, o, q]));
            maxDiff = Math.Max(maxDiff, Math.Abs(yRc[b, o, q] - y[b, n - 1 - o, p - 1 - q]));
        }
        Assert.True(maxDiff <= 1e-5 * maxAbs, $"max deviation {maxDiff} (scale {maxAbs})");
        Assert.True(conv.MeasureEquivariance(length) <= 1e-5);
    }

    private static float[] Flatten(float[,,] a) => a.Cast<float>().ToArray();

    [Fact]
    public void AStandardConvolutionIsNotRcEquivariant()
    {
        // the measure can fail: an untied kernel breaks the relation by far
        manual_seed(5);
        using var conv = nn.Conv1d(4, 6, 5);
        var x = OneHot(2, 40, new Generator(1));
        Assert.True(Deviation.Relative(conv.forward(ReverseComplementTies.Apply(x)), ReverseComplementTies.Apply(conv.forward(x))) > 0.1);
    }

    [Fact]
    public void EveryLayerMeasuresItsOwnEquivariance()
    {
        manual_seed(6);
        var gen = new Generator(7);
        IEquivariantModule[] layers = { new RcConv1d(4, 3, 7), new RcBatchNorm1d(6), new RcWeightedSum(6, 9), new RcDense(6, 2), new RcMaxPool1d(20, 20, 180), new RcDense(6, 1, frozenOnes: true) };
        foreach (var layer in layers) Assert.True(layer.MeasureEquivariance(31, gen) <= 1e-5, layer.ToString());
        // the measure leaves batch norm as it was (its training-mode run would otherwise move the running statistics)
        var bn = (RcBatchNorm1d)layers[1];
        Assert.Equal(0f, bn.Shared.running_mean!.abs().max().item<float>());
        Assert.Equal(0L, bn.Shared.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void DenseModulesComputeTheSameFunction()
    {
        manual_seed(8);
        var gen = new Generator(9);
        var x3 = randn(new long[] { 3, 6, 9 }, generator: gen);
        var x2 = randn(new long[] { 3, 6 }, generator: gen);
        using var conv = new RcConv1d(6, 2, 3);
        using var bn = new RcBatchNorm1d(6);
        using var ws = new RcWeightedSum(6, 9);
        using var dense = new RcDense(6, 2);
        using (no_grad()) { bn.Shared.running_mean!.normal_(); bn.Shared.running_var!.uniform_(0.5, 2); bn.Shared.weight!.normal_(); bn.Shared.bias!.normal_(); }
        bn.eval();
        Assert.True(Deviation.Relative(conv.ToDenseModule().forward(x3), conv.forward(x3)) <= 1e-6);
        Assert.True(Deviation.Relative(bn.ToDenseModule().forward(x3), bn.forward(x3)) <= 1e-6);
        Assert.True(Deviation.Relative(ws.ToDenseModule().forward(x3), ws.forward(x3)) <= 1e-6);
        Assert.True(Deviation.Relative(dense.ToDenseModule().forward(x2), dense.forward(x2)) <= 1e-6);
    }

    [Fact]
    public void BatchNormPoolsStatisticsOfAChannelAndItsPartner()
    {
        manual_seed(10);
        var x = randn(4, 6, 11).mul(KeptScalar.Of(3)).add(KeptScalar.Of(1), KeptScalar.One);
        using var bn = new RcBatchNorm1d(6, eps: 0);
        var y = bn.forward(x).detach();
        for (int c = 0; c < 6; c++)
        {
            var pooled = cat(new[] { x[.., c], x[.., 5 - c] }).reshape(-1);
            double mean = pooled.mean().item<float>(), variance = (pooled.sub(KeptScalar.Of(mean))).pow(KeptScalar.Of(2)).mean().item<float>();   // biased, as batch norm normalises
            var expected = (x[.., c].sub(KeptScalar.Of(mean))).div(KeptScalar.Of(Math.Sqrt(variance)));
            Assert.True(Deviation.Relative(y[.., c], expected) <= 1e-5, $"channel {c}");
        }
        Assert.Equal(new long[] { 3 }, bn.Shared.running_mean!.shape);
    }

    [Fact]
    public void WeightedSumFollowsTheSection37Initialisation()
    {
        using var ws = new RcWeightedSum(200, 60);
        var theta = ws.TiedWeights.Theta.detach();
        double s = Math.Sqrt(6.0 / (200 * 60));   // √(6/(2·fan_in·fan_out)), fan_in = 60, fan_out = 100
        Assert.True(theta.abs().max().item<float>() <= s);
        double variance = theta.var().item<float>();
        Assert.InRange(variance, 0.9 * s * s / 3, 1.1 * s * s / 3);
    }

    [Fact]
    public void ThetaGradientIsTheOrbitSumOfTheKernelGradient()
    {
        manual_seed(12);
        var gen = new Generator(13);
        using var conv = new RcConv1d(4, 3, 5);
        var x = OneHot(3, 20, gen);
        var target = randn(new long[] { 3, 6, 16 }, generator: gen);
        // dL/dW for an untied copy of the materialised kernel
        var w = conv.Weight().detach().clone().requires_grad_();
        var yDense = nn.functional.conv1d(x, w, conv.BiasVector()!.detach());
        (yDense.tanh() - target).pow(KeptScalar.Of(2)).sum().backward();
        var g = w.grad!.data<float>().ToArray();
        // θ gradient through the layer
        (conv.forward(x).tanh() - target).pow(KeptScalar.Of(2)).sum().backward();
        var thetaGrad = conv.TiedKernel.Theta.grad!.clone();
        // materialise θ := ∂L/∂θ; each entry must then hold the sum over its pair {(o,c,t), (5−o, 3−c, 4−t)}
        using (no_grad()) conv.TiedKernel.Theta.copy_(thetaGrad);
        conv.InvalidateCache();
        var spread = conv.Weight().detach().data<float>().ToArray();
        int outC = 6, inC = 4, k = 5;
        for (int o = 0; o < outC; o++) for (int c = 0; c < inC; c++) for (int t = 0; t < k; t++)
        {
            int e = (o * inC + c) * k + t, partner = ((outC - 1 - o) * inC + (inC - 1 - c)) * k + (k - 1 - t);
            double expected = g[e] + g[partner];
            Assert.True(Math.Abs(spread[e] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"entry ({o},{c},{t}): {spread[e]} vs {expected}");
        }
    }

    [Fact]
    public void LayoutsThatBreakExactInvarianceAreRefusedWithAReason()
    {
        var e = Assert.Throws<ArgumentException>(() => new DnaConvNet(DnaModelSpec.Simulated("rc", 4, new[] { "t" }, length: 205)));
        Assert.Contains("not divisible by the stride", e.Message);
        Assert.Contains("reverse-complement invariant", e.Message);
        using var fine = new DnaConvNet(DnaModelSpec.Simulated("standard", 4, new[] { "t" }, length: 205));   // no guarantee claimed
        var same = Assert.Throws<ArgumentException>(() => new RcConv1d(4, 2, 4, padding: ConvolutionPadding.Same));
        Assert.Contains("padded differently", same.Message);
        Assert.Throws<ArgumentException>(() => new RcConv1d(5, 2, 3));
        Assert.Throws<ArgumentException>(() => new RcWeightedSum(6, 9).forward(zeros(1, 6, 10)));
    }
}
