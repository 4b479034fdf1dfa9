using EquiSharp.Applications.Rna.Models;
using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Layers.Pairwise;

/// <summary>Streamed full-length inference (row bands through a pipeline of layers) computes the dense forward.</summary>
public sealed class StreamedPairInferenceTests
{
    // the RNA network's shape at small width: reach 6 (13×13) in the first stage, a skip encoder, a 3×3 head
    private static PairNetworkSpec RnaLike(bool symmetric = true) => new()
    {
        InputFeatures = 5, LstmUnits = 6, DenseFeatures = 4, EncoderChannels = 8,
        Stages = new[]
        {
            new[] { new PairBranch(13, 4), new PairBranch(9, 4), new PairBranch(5, 2) },
            new[] { new PairBranch(9, 4), new PairBranch(5, 4) },
            new[] { new PairBranch(5, 4) },
        },
        SkipChannels = 4, FinalKernel = 3, Symmetric = symmetric,
    };

    private static PairNetwork Trained(int seed, ConvolutionAlgorithm algorithm)
    {
        manual_seed(seed);
        var net = new PairNetwork("rna", RnaLike()) { Convolution = algorithm };
        using (no_grad()) net.forward(randn(2, 20, 5)).Dispose(); // training-mode statistics: eval batch norm is not the identity
        net.eval();
        return net;
    }

    [Theory]
    [InlineData(1, 6, ConvolutionAlgorithm.Direct)]     // one band of one row
    [InlineData(7, 6, ConvolutionAlgorithm.Direct)]     // a band shorter than the kernel
    [InlineData(23, 6, ConvolutionAlgorithm.Direct)]    // bands as small as the reach: every window spans three bands
    [InlineData(23, 6, ConvolutionAlgorithm.Fourier)]
    [InlineData(50, 11, ConvolutionAlgorithm.Fourier)]  // a short last band
    [InlineData(61, 0, ConvolutionAlgorithm.Auto)]      // the default band height
    public void StreamedLogitsEqualTheDenseForward(long l, long bandRows, ConvolutionAlgorithm algorithm)
    {
        using var net = Trained(7, algorithm);
        var x = randn(1, l, 5);
        using var _ = no_grad();
        var dense = net.forward(x, null, null)[0];
        var streamed = StreamedPairInference.Logits(net, x, bandRows == 0 ? null : bandRows);
        Assert.Equal(dense.shape, streamed.shape);
        Assert.True(dense.abs().max().item<float>() > 1e-3);
        Assert.True(Deviation.Relative(streamed, dense) <= 1e-5, $"{Deviation.Relative(streamed, dense):E2}");
        Assert.Equal(0.0, Deviation.Asymmetry(streamed.unsqueeze(0)));
        Assert.False(net.training);
    }

    [Fact]
    public void StreamedLogitsEqualThePackedInference()
    {
        using var net = Trained(8, ConvolutionAlgorithm.Auto);
        var x = randn(1, 90, 5);
        using var _ = no_grad();
        var packed = TiledPairInference.Logits(net, x, null, new TiledInferenceOptions { Streamed = false });
        var streamed = TiledPairInference.Logits(net, x);
        Assert.True(Deviation.Relative(streamed, packed) <= 1e-5, $"{Deviation.Relative(streamed, packed):E2}");
    }

    [Fact]
    public void BandsOfThePaperNetworkAre48Rows()
    {
        using var model = new RnaPairModel(RnaModelConfig.Paper, symmetric: true);
        Assert.Equal(48, StreamedPairInference.BandRows(model));
        Assert.Equal(60, StreamedPairInference.TransformSize(48, 13));
        Assert.Equal(56, StreamedPairInference.TransformSize(48, 9));
        Assert.Equal(63, StreamedPairInference.TransformSize(52, 11));   // 62 = 2·31 is not 7-smooth, 63 = 3²·7 is
    }

    [Fact]
    public void PlainNetworksAreRefused()
    {
        using var net = new PairNetwork("cnn", RnaLike(symmetric: false));
        Assert.False(StreamedPairInference.Supports(net));
        Assert.Contains("symmetric network", Assert.Throws<ArgumentException>(() => StreamedPairInference.Logits(net, randn(1, 9, 5))).Message);
    }
}
