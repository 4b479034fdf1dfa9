using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Symmetry;
using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Layers;

public sealed class TiedConvolutionTests
{
    private static WeightTying Untied(params long[] shape) => new OrbitTying(new WeightSymmetry(shape, Array.Empty<IndexAction>(), "none"));

    /// <summary>Reference: PyTorch's own convolution of an explicitly zero-padded input with the layer's materialised kernel.</summary>
    private static Tensor Reference(TiedConvolution layer, Tensor x, long[] before, long[] after)
    {
        var pads = layer.SpatialDims == 1 ? new[] { before[0], after[0] } : new[] { before[1], after[1], before[0], after[0] };
        var padded = nn.functional.pad(x, pads);
        var w = layer.Weight();
        return layer.SpatialDims == 1
            ? nn.functional.conv1d(padded, w, layer.BiasVector(), stride: layer.Strides[0], dilation: layer.Dilations[0])
            : nn.functional.conv2d(padded, w, layer.BiasVector(), strides: layer.Strides, dilation: layer.Dilations);
    }

    [Theory]
    [InlineData(3, 1, 1, "same", 0, 0)]
    [InlineData(4, 1, 1, "same", 1, 2)]   // even kernel: PyTorch puts the extra zero after
    [InlineData(4, 1, 3, "same", 4, 5)]   // dilation 3: extent 9
    [InlineData(5, 2, 1, "valid", 0, 0)]
    [InlineData(3, 2, 2, "2", 2, 2)]
    public void OneDimensionalGeometryMatchesAnExplicitlyPaddedConvolution(long k, long stride, long dilation, string padding, long before, long after)
    {
        manual_seed(1);
        var pad = padding switch { "same" => ConvolutionPadding.Same, "valid" => ConvolutionPadding.Valid, _ => ConvolutionPadding.Of(long.Parse(padding)) };
        if (padding == "same") { before = dilation * (k - 1) / 2; after = dilation * (k - 1) - before; }
        using var layer = TiedLayers.TiedConv1d(Untied(5, 3, k), stride, pad, dilation);
        using (no_grad()) layer.BiasVector()!.normal_();
        var x = randn(2, 3, 17);
        var y = layer.forward(x);
        Assert.Equal(layer.OutputSize(17)[0], y.shape[2]);
        Assert.True(Deviation.Relative(y, Reference(layer, x, new[] { before }, new[] { after })) <= 1e-6);
        if (padding == "same") Assert.Equal(17, y.shape[2]);
        using var dense = layer.ToDense();
        Assert.True(Deviation.Relative(dense.forward(x), y) <= 1e-6);
    }

    [Theory]
    [InlineData(3, 1, 1, "same")]
    [InlineData(2, 1, 2, "same")]
    [InlineData(3, 2, 1, "valid")]
    [InlineData(5, 1, 2, "1")]
    public void TwoDimensionalGeometryMatchesAnExplicitlyPaddedConvolution(long k, long stride, long dilation, string padding)
    {
        manual_seed(2);
        var pad = padding switch { "same" => ConvolutionPadding.Same, "valid" => ConvolutionPadding.Valid, _ => ConvolutionPadding.Of(long.Parse(padding)) };
        using var layer = TiedLayers.TiedConv2d(Untied(4, 2, k, k), new[] { stride }, pad, new[] { dilation });
        var (before, after) = pad.Resolve(layer.KernelSizes, layer.Dilations, layer.Strides);
        var x = randn(2, 2, 11, 12);
        var y = layer.forward(x);
        Assert.Equal(layer.OutputSize(11, 12), new[] { y.shape[2], y.shape[3] });
        Assert.True(Deviation.Relative(y, Reference(layer, x, before, after)) <= 1e-6);
        using var dense = layer.ToDense();
        Assert.True(Deviation.Relative(dense.forward(x), y) <= 1e-6);
    }

    [Fact]
    public void SamePaddingWithStrideIsRefusedAsInPyTorch()
    {
        var e = Assert.Throws<ArgumentException>(() => TiedLayers.TiedConv1d(Untied(2, 2, 3), stride: 2, padding: ConvolutionPadding.Same));
        Assert.Contains("stride 1", e.Message);
    }

    [Fact]
    public void ATiedBiasHasOneFreeValuePerOrbitAndExportsExpanded()
    {
        // bias of 6 channels tied in pairs (c, 5 − c), as a reverse-complement layer ties a channel to its partner
        var biasSymmetry = new WeightSymmetry(new long[] { 6 }, new[] { IndexAction.ReverseAxis(new long[] { 6 }, 0) }, "reverse");
        using var layer = TiedLayers.TiedConv1d(Untied(6, 4, 3), bias_tying: new OrbitTying(biasSymmetry));
        Assert.Equal(6 * 4 * 3 + 3, layer.FreeParameterCount);
        Assert.Equal(6 * 4 * 3 + 6, layer.DenseParameterCount());
        using (no_grad()) layer.TiedBias!.Theta.copy_(tensor(new[] { 1f, 2f, 3f }));
        layer.InvalidateCache();
        Assert.Equal(new[] { 1f, 2f, 3f, 3f, 2f, 1f }, layer.BiasVector()!.data<float>().ToArray());
        using var dense = layer.ToDense();
        Assert.Equal(new[] { 1f, 2f, 3f, 3f, 2f, 1f }, dense.bias!.data<float>().ToArray());
    }

    [Fact]
    public void MultiplicityInsideAFilterSeparatesTiesWithinFromTiesAcross()
    {
        // preserving kernel: ties inside each filter (transpose) → the orbit size
        var preserving = new OrbitTying(PairKernelSymmetries.Preserving(2, 3, 3));
        Assert.Equal(preserving.Multiplicities, preserving.MultiplicitiesWithinSlices(0));
        // a tie across filters only (out channel c ↔ 1 − c): orbit size 2, but one entry per filter
        var shape = new long[] { 2, 3, 3 };
        var across = new OrbitTying(new WeightSymmetry(shape, new[] { IndexAction.ReverseAxis(shape, 0) }, "swap filters"));
        Assert.All(across.Multiplicities, m => Assert.Equal(2, m));
        Assert.All(across.MultiplicitiesWithinSlices(0), m => Assert.Equal(1, m));
    }

    [Fact]
    public void InitialisationVarianceFollowsTheRule()
    {
        // across-filter ties: plain Glorot per entry, 2 / (fan_in + fan_out); the authors' rule: 0.5 / (C_in + C_out)
        var shape = new long[] { 64, 48, 5 };
        var tying = new OrbitTying(new WeightSymmetry(shape, new[] { IndexAction.ReverseAxis(shape, 0) }, "swap filters"));
        manual_seed(3);
        using var glorot = TiedLayers.TiedConv1d(tying);
        double expected = 2.0 / (48 * 5 + 64 * 5);
        double measured = glorot.TiedKernel.Theta.var().item<float>();
        Assert.InRange(measured / expected, 0.9, 1.1);
        using var authors = TiedLayers.TiedConv1d(tying, initialisation: KernelInitialisation.Authors);
        Assert.InRange(authors.TiedKernel.Theta.var().item<float>() / (0.5 / (48 + 64)), 0.9, 1.1);
    }

    [Fact]
    public void ScnnLayersKeepTheContract()
    {
        manual_seed(4);
        IEquivariantModule[] layers =
        {
            PairLayers.SymmetryGeneratingConv2d(6, 4, kernel_size: 3),
            PairLayers.SymmetryPreservingConv2d(4, 5, kernel_size: 5, dilation: 2),
        };
        foreach (var layer in layers)
        {
            Assert.True(layer.MeasureEquivariance(9) <= 1e-5, layer.SymmetryDescription);
            Assert.True(layer.FreeParameterCount < layer.DenseParameterCount());
            using var dense = layer.ToDenseModule();
            Assert.Equal(layer.DenseParameterCount(), dense.parameters().Sum(p => p.numel()));
            Assert.False(string.IsNullOrWhiteSpace(layer.InputDescription + layer.OutputDescription));
        }
        // a plain convolution on a self-Cartesian product is not symmetric: the measure can fail
        using var plain = TiedLayers.TiedConv2d(Untied(4, 6, 3, 3), padding: ConvolutionPadding.Same);
        var x = new SelfCartesian().forward(randn(2, 9, 3));
        Assert.True(Deviation.Asymmetry(plain.forward(x)) > 1e-2);
    }
}
