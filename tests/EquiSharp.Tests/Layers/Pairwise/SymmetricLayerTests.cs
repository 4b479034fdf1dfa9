using EquiSharp.Layers.Pairwise;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;
using EquiSharp.Training;

namespace EquiSharp.Tests.Layers.Pairwise;

public class SymmetricLayerTests
{
    private const double Tol = 1e-5;

    [Theory]
    [InlineData(1)] [InlineData(3)] [InlineData(5)]
    public void GeneratingOutputIsSymmetricOnSelfCartesianInput(int k)
    {
        var g = new Generator(7);
        for (int trial = 0; trial < 3; trial++)
        {
            var conv = PairLayers.SymmetryGeneratingConv2d(10, 6, k);
            conv.ResetParameters(g);
            using (no_grad()) conv.Bias!.normal_(generator: g);
            var y = PairLayers.SelfCartesian().forward(randn(3, 15 + trial, 5, generator: g));
            var z = conv.forward(y);
            Assert.True(Deviation.Asymmetry(z) <= Tol, $"asymmetry {Deviation.Asymmetry(z)}");
            Assert.True(z.abs().max().item<float>() > 0.1);
        }
    }

    [Fact]
    public void WideGeneratingFamilyAlsoGivesSymmetricOutput()
    {
        var conv = PairLayers.SymmetryGeneratingConv2d(8, 4, 3, wide: true);
        Assert.Equal(4 * 4 * 9 + 4, conv.FreeParameterCount);
        var z = conv.forward(PairLayers.SelfCartesian().forward(randn(2, 11, 4)));
        Assert.True(Deviation.Asymmetry(z) <= Tol);
    }

    [Fact]
    public void PlainConvOnSelfCartesianIsNotSymmetric()
    {
        // the property is not vacuous: an untied kernel breaks it
        var conv = nn.Conv2d(10, 6, 3, padding: 1);
        var z = conv.forward(PairLayers.SelfCartesian().forward(randn(2, 12, 5)));
        Assert.True(Deviation.Asymmetry(z) > 1e-2);
    }

    [Theory]
    [InlineData(3, 1)] [InlineData(5, 1)] [InlineData(3, 2)]
    public void PreservingKeepsSymmetricInputsSymmetric(int k, int dilation)
    {
        var conv = PairLayers.SymmetryPreservingConv2d(4, 5, k, dilation);
        var a = randn(2, 4, 14, 14);
        var z = conv.forward(a.add(a.transpose(2, 3), KeptScalar.One));
        Assert.True(Deviation.Asymmetry(z) <= Tol);
    }

    [Theory]
    [InlineData(true)] [InlineData(false)]
    public void StackStaysSymmetricInTrainAndEvalMode(bool training)
    {
        var stack = nn.Sequential(
            ("sg", PairLayers.SymmetryGeneratingConv2d(10, 8, 3)),
            ("bn1", nn.BatchNorm2d(8)), ("r1", nn.ReLU()),
            ("mk", PairLayers.MultiKernelSymmetricConv2d(8, new (long, long)[] { (9, 4), (5, 4) })),
            ("bn2", nn.BatchNorm2d(8)), ("r2", nn.ReLU()),
            ("sp", PairLayers.SymmetryPreservingConv2d(8, 2, 3)));
        var x = PairLayers.SelfCartesian().forward(randn(3, 16, 5));
        stack.train();
        stack.forward(x); // populate running statistics
        stack.train(training);
        var z = stack.forward(x);
        Assert.True(Deviation.Asymmetry(z) <= Tol, $"asymmetry {Deviation.Asymmetry(z)}");
    }

    [Fact]
    public void KernelsStayExactlyTiedAfter50AdamSteps()
    {
        var sg = PairLayers.SymmetryGeneratingConv2d(6, 4, 3);
        var sp = PairLayers.SymmetryPreservingConv2d(4, 2, 5);
        var model = nn.Sequential(("sg", sg), ("relu", nn.ReLU()), ("sp", sp));
        var opt = Optimizers.Adam(model.parameters(), 0.01);
        var x = PairLayers.SelfCartesian().forward(randn(2, 10, 3));
        var target = randn(2, 2, 10, 10);
        for (int step = 0; step < 50; step++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            nn.functional.mse_loss(model.forward(x), target).backward();
            opt.step();
        }
        // the paper's entry relations, by explicit index loops (not the engine's own symmetry): exactly, not to rounding
        Assert.Equal(0.0, PaperKernelRelations.GeneratingViolation(sg.Weight()));
        Assert.Equal(0.0, PaperKernelRelations.PreservingViolation(sp.Weight()));
    }

    [Fact]
    public void WideGeneratingKernelSatisfiesTheoremOneButNotEquationTwo()
    {
        var wide = PairLayers.SymmetryGeneratingConv2d(8, 4, 3, wide: true);
        wide.ResetParameters(new Generator(4));
        Assert.Equal(0.0, PaperKernelRelations.WideGeneratingViolation(wide.Weight()));
        Assert.True(PaperKernelRelations.GeneratingViolation(wide.Weight()) > 0.1); // a wider family than eq. (2)
    }

    /// <summary>The relation checks can fail (an untied kernel violates them) and the eq. (2)/(4) constructions satisfy them.</summary>
    [Fact]
    public void PaperKernelRelationsRejectUntiedKernelsAndAcceptTheirConstructions()
    {
        var g = new Generator(8);
        var untied = randn(new long[] { 3, 4, 5, 5 }, generator: g);
        Assert.True(PaperKernelRelations.PreservingViolation(untied) > 0.1);
        Assert.True(PaperKernelRelations.GeneratingViolation(untied) > 0.1);
        Assert.True(PaperKernelRelations.WideGeneratingViolation(untied) > 0.1);
        Assert.True(double.IsNaN(PaperKernelRelations.PreservingViolation(zeros(2, 2, 3, 3))));
        var q = PaperKernelRelations.PreservingKernel(untied);
        Assert.Equal(0.0, PaperKernelRelations.PreservingViolation(q));
        Assert.Equal(untied[1, 2, 4, 1].item<float>(), q[1, 2, 4, 1].item<float>()); // i ≥ j: R itself
        Assert.Equal(untied[1, 2, 4, 1].item<float>(), q[1, 2, 1, 4].item<float>()); // i < j: R transposed
        var w = PaperKernelRelations.GeneratingKernel(untied);
        Assert.Equal(new long[] { 3, 8, 5, 5 }, w.shape);
        Assert.Equal(0.0, PaperKernelRelations.GeneratingViolation(w));
        Assert.Equal(untied[2, 3, 3, 0].item<float>(), w[2, 7, 0, 3].item<float>()); // k > n, i < j: S[j, i, k − n]
    }

    [Fact]
    public void BadArgumentsThrowArgumentExceptionsThatSayWhatWasExpected()
    {
        Assert.Contains("odd", Assert.Throws<ArgumentException>(() => PairLayers.SymmetryPreservingConv2d(4, 4, 4)).Message);
        Assert.Contains("even", Assert.Throws<ArgumentException>(() => PairLayers.SymmetryGeneratingConv2d(5, 4, 1)).Message);
        Assert.Contains("positive", Assert.Throws<ArgumentException>(() => PairLayers.SymmetryPreservingConv2d(0, 4, 3)).Message);
        Assert.Contains("positive", Assert.Throws<ArgumentException>(() => PairLayers.SymmetryPreservingConv2d(4, -1, 3)).Message);
        Assert.Contains("positive", Assert.Throws<ArgumentException>(() => PairLayers.SymmetryPreservingConv2d(4, 4, 3, dilation: 0)).Message);
        Assert.Throws<ArgumentException>(() => PairLayers.MultiKernelSymmetricConv2d(4, Array.Empty<(long, long)>()));
    }

    /// <summary>
    /// ToDense() of a layer loaded with a kernel built independently from eq. (4) (dilated) or eq. (2) equals a plain
    /// conv2d with that kernel — not the layer compared with itself.
    /// </summary>
    [Theory]
    [InlineData(false, 2)] [InlineData(false, 3)] [InlineData(true, 1)]
    public void ToDenseEqualsConvWithAnIndependentlyBuiltKernel(bool generating, int dilation)
    {
        var g = new Generator((ulong)(20 + dilation));
        const int k = 5;
        var kernel = generating
            ? PaperKernelRelations.GeneratingKernel(randn(new long[] { 3, 3, k, k }, generator: g))
            : PaperKernelRelations.PreservingKernel(randn(new long[] { 3, 4, k, k }, generator: g));
        var bias = randn(new long[] { 3 }, generator: g);
        SymmetricConv2d layer = generating ? PairLayers.SymmetryGeneratingConv2d(6, 3, k) : PairLayers.SymmetryPreservingConv2d(4, 3, k, dilation);
        layer.TiedKernel.LoadFromDense(kernel);
        using (no_grad()) layer.Bias!.copy_(bias);
        var x = generating ? PairLayers.SelfCartesian().forward(randn(new long[] { 2, 13, 3 }, generator: g)) : randn(new long[] { 2, 4, 13, 13 }, generator: g);
        long pad = dilation * (k - 1) / 2;
        var expected = nn.functional.conv2d(x, kernel, bias, padding: new[] { pad, pad }, dilation: new long[] { dilation, dilation });
        var dense = layer.ToDense();
        Assert.Equal(0f, (dense.weight! - kernel).abs().max().item<float>());
        Assert.True(Deviation.Relative(dense.forward(x), expected) <= Tol, $"ToDense {Deviation.Relative(dense.forward(x), expected)}");
        Assert.True(Deviation.Relative(layer.forward(x), expected) <= Tol, $"layer {Deviation.Relative(layer.forward(x), expected)}");
    }

    [Fact]
    public void FreeParameterCountsIncludeBias()
    {
        Assert.Equal(40 * 20 * 1 + 40, PairLayers.SymmetryGeneratingConv2d(40, 40, 1).FreeParameterCount);
        Assert.Equal(20 * 40 * 91 + 20, PairLayers.SymmetryPreservingConv2d(40, 20, 13).FreeParameterCount);
    }

    /// <summary>Half-Glorot as documented: entries of multiplicity m have variance 2/(fan_in+fan_out)/m.</summary>
    [Fact]
    public void InitialisedKernelVarianceMatchesTheDocumentedHalfGlorotRule()
    {
        var sp = PairLayers.SymmetryPreservingConv2d(64, 64, 5);
        var sg = PairLayers.SymmetryGeneratingConv2d(128, 64, 5);
        foreach (var layer in new SymmetricConv2d[] { sp, sg })
        {
            double glorot = 2.0 / (layer.InChannels * 25 + layer.OutChannels * 25);
            var w = layer.Weight().contiguous().data<float>().ToArray();
            var partition = ((EquiSharp.Symmetry.OrbitTying)layer.TiedKernel.Tying).Partition;
            var mult = partition.Multiplicities();
            foreach (var m in mult.Distinct())
            {
                var entries = Enumerable.Range(0, w.Length).Where(i => mult[partition.OrbitOf[i]] == m).Select(i => (double)w[i]).ToArray();
                double variance = entries.Select(v => v * v).Average();
                Assert.InRange(variance / (glorot / m), 0.93, 1.07);
            }
        }
    }

    [Fact]
    public void EvalModeCachesTheMaterialisedKernelWithoutGradAndTrainingDropsIt()
    {
        var sp = PairLayers.SymmetryPreservingConv2d(2, 2, 3);
        sp.eval();
        Tensor w1;
        using (no_grad()) w1 = sp.Weight();
        using (no_grad()) sp.TiedKernel.Theta.add_(KeptScalar.Of(1f), KeptScalar.One);
        using (no_grad()) Assert.Equal(0f, (sp.Weight() - w1).abs().max().item<float>()); // cached
        Assert.True((sp.Weight() - w1).abs().min().item<float>() > 0.5f); // gradients enabled: fresh, never the cache
        sp.train();
        using (no_grad()) Assert.True((sp.Weight() - w1).abs().min().item<float>() > 0.5f); // fresh after train()
    }

    /// <summary>
    /// model.eval() + backward() (fine-tuning with frozen batch norm, saliency maps): θ gets a gradient, and it is the
    /// dense kernel's gradient summed over each orbit (eqs. 3 and 5), even after a no_grad call filled the eval cache.
    /// </summary>
    [Theory]
    [InlineData(true)] [InlineData(false)]
    public void EvalModeBackwardGivesThetaTheDenseGradientSummedOverOrbits(bool generating)
    {
        var g = new Generator(12);
        SymmetricConv2d conv = generating ? PairLayers.SymmetryGeneratingConv2d(4, 3, 3) : PairLayers.SymmetryPreservingConv2d(3, 2, 3);
        conv.ResetParameters(g);
        conv.eval();
        using (no_grad()) conv.forward(randn(1, conv.InChannels, 5, 5, generator: g)); // fills the eval cache
        var x = randn(2, conv.InChannels, 7, 7, generator: g);
        var up = randn(2, conv.OutChannels, 7, 7, generator: g);
        conv.forward(x).mul(up).sum().backward();
        var theta = conv.TiedKernel.Theta;
        Assert.NotNull(theta.grad);

        Tensor dense;
        using (no_grad()) dense = conv.Weight().clone();
        dense.requires_grad_(true);
        nn.functional.conv2d(x, dense, conv.Bias!.detach(), padding: new long[] { 1, 1 }).mul(up).sum().backward();
        var orbitOf = ((EquiSharp.Symmetry.OrbitTying)conv.TiedKernel.Tying).Partition.OrbitOf;
        var denseGrad = dense.grad!.contiguous().data<float>().ToArray();
        var expected = new double[theta.numel()];
        for (int e = 0; e < denseGrad.Length; e++) expected[orbitOf[e]] += denseGrad[e];
        var actual = theta.grad!.data<float>().ToArray();
        double scale = expected.Max(Math.Abs);
        Assert.True(scale > 0);
        for (int o = 0; o < expected.Length; o++)
            Assert.True(Math.Abs(actual[o] - expected[o]) <= 1e-5 * scale, $"orbit {o}: {actual[o]} vs {expected[o]}");
    }
}

public class SelfCartesianTests
{
    [Fact]
    public void EntryIJIsTheConcatenationOfXiAndXj()
    {
        var x = randn(2, 5, 3);
        var y = PairLayers.SelfCartesian().forward(x);
        Assert.Equal(new long[] { 2, 6, 5, 5 }, y.shape);
        for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
        {
            Assert.Equal(0f, (y[0, TensorIndex.Slice(0, 3), i, j] - x[0, i]).abs().max().item<float>());
            Assert.Equal(0f, (y[0, TensorIndex.Slice(3, 6), i, j] - x[0, j]).abs().max().item<float>());
        }
    }

    [Fact]
    public void PaddedBatchBlocksEqualUnbatchedResultsAndPaddingNeverLeaks()
    {
        var lengths = new long[] { 7, 4, 6 };
        var seqs = lengths.Select(l => randn(1, l, 3)).ToArray();
        var batch = full(3, 7, 3, KeptScalar.Of(1e6f)); // garbage in the padding must not leak
        for (int b = 0; b < 3; b++) batch[b, TensorIndex.Slice(0, lengths[b])] = seqs[b][0];
        var y = PairLayers.SelfCartesian().forward(batch, tensor(lengths));
        for (int b = 0; b < 3; b++)
        {
            long l = lengths[b];
            var single = PairLayers.SelfCartesian().forward(seqs[b]);
            Assert.Equal(0f, (y[b, TensorIndex.Colon, TensorIndex.Slice(0, l), TensorIndex.Slice(0, l)] - single[0]).abs().max().item<float>());
            var outside = y[b].clone();
            outside[TensorIndex.Colon, TensorIndex.Slice(0, l), TensorIndex.Slice(0, l)] = 0f;
            Assert.Equal(0f, outside.abs().max().item<float>());
        }
    }
}
