using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Verification;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.Pairwise;

/// <summary>The shared pair network configured as a protein-contact model would be: 1-D features and symmetric pair features.</summary>
public sealed class PairNetworkTests
{
    private static PairNetworkSpec ContactLike(bool symmetric) => new()
    {
        InputFeatures = 7, PairFeatures = 3, LstmUnits = 6, DenseFeatures = 4, EncoderChannels = 8,
        Stages = new[] { new[] { new PairBranch(5, 4), new PairBranch(3, 4) } }, SkipChannels = 4, FinalKernel = 3, Symmetric = symmetric,
    };

    private static (Tensor X, Tensor P, Tensor Lengths) Inputs(long b, long l)
    {
        var x = randn(b, l, 7);
        var p = randn(b, 3, l, l);
        return (x, p.add(p.transpose(2, 3), KeptScalar.One), tensor(new long[] { l, l - 3 }));
    }

    [Fact]
    public void SymmetricNetworkWithPairFeaturesGivesSymmetricLogits()
    {
        manual_seed(1);
        using var net = new PairNetwork("contacts", ContactLike(true));
        var (x, p, lengths) = Inputs(2, 13);
        using var _ = no_grad();
        var y = net.forward(x, p, lengths);
        Assert.Equal(new long[] { 2, 1, 13, 13 }, y.shape);
        Assert.True(Deviation.Asymmetry(y) <= 1e-5);
        Assert.True(y.abs().max().item<float>() > 1e-3); // not trivially zero
        // entries outside the second sequence's 10×10 block are zero
        Assert.Equal(0f, y[1, 0, 11, 2].item<float>());
    }

    [Fact]
    public void PlainNetworkIsNotSymmetric()
    {
        manual_seed(2);
        using var net = new PairNetwork("contacts", ContactLike(false));
        var (x, p, _) = Inputs(2, 11);
        using var _ = no_grad();
        Assert.True(Deviation.Asymmetry(net.forward(x, p, null)) > 1e-2);
    }

    [Theory]
    [InlineData(9, ConvolutionAlgorithm.Direct)]
    [InlineData(16, ConvolutionAlgorithm.Direct)]
    [InlineData(16, ConvolutionAlgorithm.Fourier)]
    public void PackedForwardAndGradientsEqualDense(long l, ConvolutionAlgorithm algorithm)
    {
        manual_seed(3);
        using var net = new PairNetwork("contacts", ContactLike(true)) { Convolution = algorithm };
        var (x, p, lengths) = Inputs(2, l);
        var upstream = randn(2, 1, l, l);
        upstream = upstream.add(upstream.transpose(2, 3), KeptScalar.One);
        Tensor[] Run(bool packed)
        {
            net.PackedMaps = packed;
            foreach (var q in net.parameters()) q.grad?.zero_();
            var xi = x.detach().requires_grad_(true);
            var y = net.forward(xi, p, lengths);
            (y * upstream).sum().backward();
            return new[] { y.detach() , xi.grad!.clone() }.Concat(net.parameters().Select(q => q.grad!.clone())).ToArray();
        }
        var dense = Run(false);
        var packedResult = Run(true);
        double largestGradient = dense.Skip(1).Max(g => g.abs().max().item<float>());
        for (int k = 0; k < dense.Length; k++)
        {
            string name = k < 2 ? k == 0 ? "output" : "input gradient" : net.named_parameters().ElementAt(k - 2).name;
            double scale = dense[k].abs().max().item<float>();
            if (k > 0 && scale < 1e-4 * largestGradient)
            {
                // a gradient that vanishes in exact arithmetic (the LSTM projection's bias is a constant shift that batch
                // norm removes): both paths must agree that it is zero, at the float noise level of the others
                Assert.True(packedResult[k].abs().max().item<float>() < 1e-4 * largestGradient, $"{name}: packed gradient is not ~0");
                continue;
            }
            Assert.True(Deviation.Relative(packedResult[k], dense[k]) <= 1e-4, $"{name}: {Deviation.Relative(packedResult[k], dense[k]):E2}");
        }
    }

    [Theory]
    [InlineData(9, ConvolutionAlgorithm.Direct)]
    [InlineData(16, ConvolutionAlgorithm.Direct)]
    [InlineData(16, ConvolutionAlgorithm.Fourier)]
    public void PackedInferenceEqualsDenseOnAPaddedBatch(long l, ConvolutionAlgorithm algorithm)
    {
        // eval mode without autograd takes the packed inference path (in-place batch norm filling the canvas ring,
        // in-place ReLU, branch outputs written into one block): it must give the dense eval forward
        manual_seed(5);
        using var net = new PairNetwork("contacts", ContactLike(true)) { Convolution = algorithm };
        var (x, p, lengths) = Inputs(2, l);
        net.PackedMaps = false;
        net.forward(x, p, lengths).Dispose(); // one training-mode forward, so the running statistics are not the initial ones
        net.eval();
        using var _ = no_grad();
        var dense = net.forward(x, p, lengths);
        net.PackedMaps = true;
        var packed = net.forward(x, p, lengths);
        Assert.True(dense.abs().max().item<float>() > 1e-3);
        Assert.True(Deviation.Relative(packed, dense) <= 1e-5, $"{Deviation.Relative(packed, dense):E2}");
    }

    [Theory]
    [InlineData(false, 16L, ConvolutionAlgorithm.Direct)]
    [InlineData(true, 16L, ConvolutionAlgorithm.Direct)]
    [InlineData(false, 1L << 17, ConvolutionAlgorithm.Direct)]
    [InlineData(true, 16L, ConvolutionAlgorithm.Fourier)]
    public void InPlaceInferenceOfOneSequenceEqualsDense(bool withLengths, long stripCells, ConvolutionAlgorithm algorithm)
    {
        // one sequence without pair features takes the in-place path: every stage convolves in the planes of one buffer,
        // in row strips whose last rows are written after the next strip; a widening (6 → 8) and a narrowing (8 → 3) stage,
        // and strips of a few rows so the delayed writes happen many times
        manual_seed(6);
        var spec = new PairNetworkSpec
        {
            InputFeatures = 7, LstmUnits = 6, DenseFeatures = 4, EncoderChannels = 6,
            Stages = new[] { new[] { new PairBranch(5, 4), new PairBranch(3, 4) }, new[] { new PairBranch(3, 3) } },
            SkipChannels = 4, FinalKernel = 3, Symmetric = true,
        };
        using var net = new PairNetwork("rna-like", spec) { Convolution = algorithm };
        // by FFTs a strip is whole tiles (28 rows for these 5×5 kernels): a longer sequence makes several strips
        long l = algorithm == ConvolutionAlgorithm.Fourier ? 75 : 19;
        var x = randn(1, l, 7);
        var lengths = withLengths ? tensor(new[] { l }) : null;
        net.forward(x, null, lengths).Dispose(); // training-mode statistics, so eval batch norm is not the identity
        net.eval();
        using var _ = no_grad();
        var dense = net.forward(x, null, lengths);
        long saved = EquiSharp.Layers.Pairwise.Packed.PackedFunctions.InferenceStripCells;
        EquiSharp.Layers.Pairwise.Packed.PackedFunctions.InferenceStripCells = stripCells;
        try
        {
            net.PackedMaps = true;
            var packed = net.forward(x, null, lengths);
            Assert.True(dense.abs().max().item<float>() > 1e-3);
            Assert.True(Deviation.Relative(packed, dense) <= 1e-5, $"{Deviation.Relative(packed, dense):E2}");
        }
        finally { EquiSharp.Layers.Pairwise.Packed.PackedFunctions.InferenceStripCells = saved; }
    }

    [Theory]
    [InlineData(true, 5)]
    [InlineData(false, 6)]
    public void TiledInferenceEqualsTheDenseForward(bool symmetric, int tile)
    {
        manual_seed(4);
        using var net = new PairNetwork("contacts", ContactLike(symmetric));
        var (x, p, _) = Inputs(1, 17);
        x = x[TensorIndex.Slice(0, 1)]; p = p[TensorIndex.Slice(0, 1)];
        net.eval();
        using var _ = no_grad();
        var dense = net.forward(x, p, null)[0];
        var tiled = TiledPairInference.Logits(net, x, p, new TiledInferenceOptions { TileSize = tile });
        Assert.True(Deviation.Relative(tiled, dense) <= 1e-5);
    }

    [Fact]
    public void MissingOrMisshapenPairFeaturesAreRefused()
    {
        using var net = new PairNetwork("contacts", ContactLike(true));
        Assert.Contains("3 pair features", Assert.Throws<ArgumentException>(() => net.forward(randn(1, 8, 7), null, null)).Message);
        Assert.Contains("expected pair features", Assert.Throws<ArgumentException>(() => net.forward(randn(1, 8, 7), randn(1, 2, 8, 8), null)).Message);
        Assert.Contains("(B, L, 7)", Assert.Throws<ArgumentException>(() => net.forward(randn(1, 8, 5), randn(1, 3, 8, 8), null)).Message);
    }

    [Fact]
    public void DecodingMapMirrorsOnlyAPlainNetworksUpperTriangle()
    {
        var p = new float[] { 0, 0.9f, 0.1f, 0 };
        Assert.Same(p, PairMapPolicy.DecodingMap(true, p, 2));
        Assert.Equal(new[] { 0, 0.9f, 0.9f, 0 }, PairMapPolicy.DecodingMap(false, p, 2));
        Assert.Equal(0.1f, p[2]);
    }
}
