using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Packed;
using EquiSharp.Layers.Pairwise.Separable;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.Pairwise;

public class SeparableGeneratingTests
{
    private const double Tol = 1e-5;

    /// <summary>The dense path: conv on the materialised self-Cartesian product with the ToDense() kernel, masked to each block.</summary>
    private static Tensor Dense(nn.Module<Tensor, Tensor> conv, Tensor x, Tensor? lengths)
    {
        var z = conv.forward(PairLayers.SelfCartesian().forward(x, lengths));
        return lengths is null ? z : z.mul(PairMask.FromLengths(lengths, x.shape[1], z.dtype));
    }

    private static (Tensor Out, Tensor[] Grads) RunWithGrads(Func<Tensor, Tensor> f, Tensor x, Tensor upstream, params Tensor[] parameters)
    {
        var xv = x.detach().clone().requires_grad_(true);
        foreach (var p in parameters) p.grad?.zero_();
        var z = f(xv);
        z.mul(upstream).sum().backward();
        var grads = new[] { xv.grad!.clone() }.Concat(parameters.Select(p => p.grad!.clone())).ToArray();
        foreach (var p in parameters) p.grad!.zero_();
        return (z.detach(), grads);
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (var k in new[] { 1, 3, 5 })
        foreach (var l in new[] { 11, 12 })
        foreach (var padded in new[] { false, true })
        foreach (var engine in new[] { SeparableGenerating.Engine.Fused, SeparableGenerating.Engine.Plain })
            yield return new object[] { k, l, padded, engine };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputAndGradientsEqualTheDensePath(int k, int l, bool padded, SeparableGenerating.Engine engine)
    {
        var g = new Generator((ulong)(100 * k + l + (padded ? 7 : 0)));
        var layer = new SeparableSymmetryGeneratingConv2d(4, 6, k) { Engine = engine };
        layer.Conv.ResetParameters(g);
        using (no_grad()) layer.Conv.Bias!.normal_(generator: g);
        // lengths cover full, one short, shorter than the kernel, and a single position
        var lengths = padded ? tensor(new long[] { l, l - 1, 3, 1 }) : null;
        var x = randn(4, l, 4, generator: g);
        if (padded) x[3, TensorIndex.Slice(1, null)] = 1e3f; // garbage in the padding must not leak
        var upstream = randn(4, 6, l, l, generator: g);
        var ps = new Tensor[] { layer.Conv.TiedKernel.Theta, layer.Conv.Bias! };

        var dense = RunWithGrads(xv => Dense(layer.Conv, xv, lengths), x, upstream, ps);
        var sep = RunWithGrads(xv => layer.forward(xv, lengths), x, upstream, ps);

        Assert.Equal(dense.Out.shape, sep.Out.shape);
        Assert.True(Deviation.Relative(sep.Out, dense.Out) <= Tol, $"forward dev {Deviation.Relative(sep.Out, dense.Out)}");
        string[] names = { "x", "theta", "bias" };
        for (int i = 0; i < names.Length; i++)
        {
            double dev = Deviation.Relative(sep.Grads[i], dense.Grads[i]);
            Assert.True(dev <= Tol, $"grad {names[i]} dev {dev}");
            Assert.True(dense.Grads[i].abs().max().item<float>() > 0, $"grad {names[i]} vacuous");
        }
    }

    [Theory]
    [InlineData(3)] [InlineData(5)]
    public void IdentityHoldsForAnyKernelNotOnlyTiedOnes(int k)
    {
        // the separable formula assumes no symmetry: a random untied kernel must also match conv on the product
        var g = new Generator(3);
        var w = randn(5, 6, k, k, generator: g);
        var bias = randn(5, generator: g);
        var x = randn(2, 9, 3, generator: g);
        var lengths = tensor(new long[] { 9, 4 });
        long pad = (k - 1) / 2;
        var dense = nn.functional.conv2d(PairLayers.SelfCartesian().forward(x, lengths), w, bias, padding: new[] { pad, pad })
            .mul(PairMask.FromLengths(lengths, 9));
        foreach (var engine in new[] { SeparableGenerating.Engine.Fused, SeparableGenerating.Engine.Plain })
        {
            var sep = SeparableGenerating.Forward(w, bias, x, lengths, engine);
            Assert.True(Deviation.Relative(sep, dense) <= Tol, $"{engine}: dev {Deviation.Relative(sep, dense)}");
            Assert.True(Deviation.Asymmetry(dense) > 1e-2); // untied: not symmetric, so the match is not a symmetry artefact
        }
    }

    /// <summary>
    /// On a padded batch the output is symmetric, zero outside each sequence's block, and inside the block it is the
    /// output of the sequence alone (so padding neither leaks in nor zeroes the block).
    /// </summary>
    [Fact]
    public void OutputIsSymmetricZeroOutsideEachBlockAndTheUnpaddedResultInside()
    {
        var g = new Generator(9);
        var layer = new SeparableSymmetryGeneratingConv2d(3, 4, 5);
        layer.Conv.ResetParameters(g);
        using (no_grad()) layer.Conv.Bias!.fill_(KeptScalar.Of(0.5f));
        var lengths = tensor(new long[] { 10, 6 });
        var x = randn(new long[] { 2, 10, 3 }, generator: g);
        x[1, TensorIndex.Slice(6, null)] = 1e3f; // garbage in the padding
        var z = layer.forward(x, lengths);
        Assert.True(Deviation.Asymmetry(z) <= Tol);
        var outside = z[1].clone();
        outside[TensorIndex.Colon, TensorIndex.Slice(0, 6), TensorIndex.Slice(0, 6)] = 0f;
        Assert.Equal(0f, outside.abs().max().item<float>());
        var alone = layer.forward(x[TensorIndex.Slice(1, 2), TensorIndex.Slice(0, 6)]);
        var block = z[TensorIndex.Slice(1, 2), TensorIndex.Colon, TensorIndex.Slice(0, 6), TensorIndex.Slice(0, 6)];
        Assert.True(Deviation.Relative(block, alone) <= Tol, $"block vs unpadded: {Deviation.Relative(block, alone)}");
    }

    [Fact]
    public void SharesParametersWithTheWrappedDenseLayer()
    {
        var conv = PairLayers.SymmetryGeneratingConv2d(8, 3, 3);
        var sep = new SeparableSymmetryGeneratingConv2d(conv);
        Assert.Equal(conv.FreeParameterCount, sep.FreeParameterCount);
        Assert.Equal(conv.parameters().Sum(p => p.numel()), sep.parameters().Sum(p => p.numel()));
        Assert.Equal(0f, (sep.ToDense().weight! - conv.Weight()).abs().max().item<float>());
    }

    [Fact]
    public void DenseModuleIsTheProductThenAPlainConv()
    {
        var layer = new SeparableSymmetryGeneratingConv2d(3, 4, 5);
        using (no_grad()) layer.Conv.Bias!.normal_();
        var dense = Assert.IsType<TorchSharp.Modules.Sequential>(layer.ToDenseModule());
        var parts = dense.children().ToArray();
        Assert.IsType<SelfCartesian>(parts[0]);
        Assert.IsType<TorchSharp.Modules.Conv2d>(parts[1]);
        Assert.Equal(layer.DenseParameterCount(), dense.parameters().Sum(p => p.numel()));
        Assert.True(layer.FreeParameterCount < layer.DenseParameterCount());
        var x = randn(2, 11, 3);
        using (no_grad())
            Assert.True(Deviation.Relative(dense.forward(x), layer.forward(x)) <= Tol);
        Assert.True(layer.MeasureEquivariance(11, new Generator(3)) <= Tol);
    }

    [Fact]
    public void FusedEngineWorksWithoutGradAndInEvalMode()
    {
        var layer = new SeparableSymmetryGeneratingConv2d(2, 3, 3);
        var x = randn(1, 7, 2);
        var expected = Dense(layer.Conv, x, null);
        layer.eval();
        using (no_grad())
            Assert.True(Deviation.Relative(layer.forward(x), expected) <= Tol);
    }

    [Fact]
    public void BadInputsThrowArgumentExceptions()
    {
        var layer = new SeparableSymmetryGeneratingConv2d(3, 4, 3);
        Assert.Throws<ArgumentException>(() => layer.forward(randn(2, 5, 4)));
        Assert.Throws<ArgumentException>(() => layer.forward(randn(2, 5, 3), tensor(new long[] { 6, 2 })));
        Assert.Throws<ArgumentException>(() => layer.forward(randn(2, 5, 3), tensor(new long[] { 5 })));
    }
}

public class SeparableGeneratingPackedTests
{
    [Theory]
    // tile > 0: tiled layout with that tile; tile ≤ 0: folded layout with reach −tile
    [InlineData(1, 12, 4, false)] [InlineData(3, 12, 4, true)] [InlineData(5, 11, 4, false)] [InlineData(5, 13, 4, true)] [InlineData(3, 9, 9, true)]
    [InlineData(1, 12, 0, false)] [InlineData(3, 12, -2, true)] [InlineData(5, 11, -1, false)] [InlineData(5, 13, -3, true)] [InlineData(3, 4, -2, true)]
    public void PackedOutputAndGradientsEqualTheDensePath(int k, int l, int tile, bool padded)
    {
        var g = new Generator((ulong)(7 * k + l));
        var layer = new SeparableSymmetryGeneratingConv2d(3, 4, k);
        layer.Conv.ResetParameters(g);
        using (no_grad()) layer.Conv.Bias!.normal_(generator: g);
        var lengths = padded ? tensor(new long[] { l, 2, l - 3 }) : null;
        var x = randn(new long[] { 3, l, 3 }, generator: g);
        var up = randn(new long[] { 3, 4, l, l }, generator: g);
        up = up.add(up.transpose(2, 3), KeptScalar.One);
        (Tensor z, Tensor gx, Tensor gw) Run(Func<Tensor, Tensor> f)
        {
            var xv = x.detach().requires_grad_(true);
            layer.zero_grad();
            var z = f(xv);
            z.mul(up).sum().backward();
            return (z.detach(), xv.grad!.clone(), layer.Conv.TiedKernel.Theta.grad!.clone());
        }
        var dense = Run(xv => layer.forward(xv, lengths));
        var packed = Run(xv => layer.ForwardPacked(xv, lengths, tile > 0 ? PackedLayout.Tiled(l, tile) : PackedLayout.Folded(l, -tile)).Unpack());
        Assert.True(Deviation.Relative(packed.z, dense.z) <= 1e-5, $"forward {Deviation.Relative(packed.z, dense.z)}");
        Assert.True(Deviation.Relative(packed.gx, dense.gx) <= 1e-5, $"x grad {Deviation.Relative(packed.gx, dense.gx)}");
        Assert.True(Deviation.Relative(packed.gw, dense.gw) <= 1e-5, $"theta grad {Deviation.Relative(packed.gw, dense.gw)}");
    }
}
