using EquiSharp.Layers.Permutation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Layers.Permutation;

/// <summary>The set layers' contract: dense exports for one set size N, the size requirement, the permutation measure.</summary>
public class SetDenseExportTests
{
    [Theory]
    [InlineData(1, "sum")] [InlineData(3, "sum")] [InlineData(5, "mean")]
    public void LinearExportsALinearOverTheFlattenedSet(int n, string aggregation)
    {
        var layer = PermutationLayers.PermutationEquivariantLinear(3, 2, aggregation: aggregation, dtype: ScalarType.Float64);
        using (no_grad()) layer.Bias!.normal_();
        var dense = Assert.IsType<FlattenedSetAdapter>(layer.ToDenseModule(n));
        var linear = Assert.IsType<Linear>(dense.children().Single());
        Assert.Equal(new long[] { n * 2, n * 3 }, linear.weight.shape);
        Assert.Equal(layer.DenseParameterCount(n), dense.parameters().Sum(p => p.numel()));
        var x = randn(new long[] { 4, n, 3 }, dtype: ScalarType.Float64);
        Assert.True(PermutationChecks.RelativeDeviation(dense.forward(x), layer.forward(x)) <= 1e-12);
    }

    [Theory]
    [InlineData(1, true)] [InlineData(3, true)] [InlineData(4, false)]
    public void QuadraticExportsABilinearFedTheSetTwice(int n, bool pairs)
    {
        var layer = PermutationLayers.PermutationEquivariantQuadratic(2, 3, symmetric_pairs: pairs, dtype: ScalarType.Float64);
        var dense = Assert.IsType<FlattenedSetAdapter>(layer.ToDenseModule(n));
        var bilinear = Assert.IsType<Bilinear>(dense.children().Single());
        Assert.Equal(new long[] { n * 3, n * 2, n * 2 }, bilinear.weight.shape);
        Assert.Equal((long)n * n * n * 3 * 2 * 2, layer.DenseParameterCount(n));
        Assert.Equal(layer.DenseParameterCount(n), dense.parameters().Sum(p => p.numel()));
        var x = randn(new long[] { 2, 3, n, 2 }, dtype: ScalarType.Float64);    // extra leading axes pass through
        Assert.True(PermutationChecks.RelativeDeviation(dense.forward(x), layer.forward(x)) <= 1e-12);
    }

    [Fact]
    public void DenseFormsNeedTheSetSizeAndRejectOtherSizes()
    {
        var linear = PermutationLayers.PermutationEquivariantLinear(3, 2);
        var quadratic = PermutationLayers.PermutationEquivariantQuadratic(3, 2);
        foreach (var message in new[]
        {
            Assert.Throws<ArgumentException>(() => linear.ToDenseModule()).Message,
            Assert.Throws<ArgumentException>(() => quadratic.ToDenseModule()).Message,
            Assert.Throws<ArgumentException>(() => linear.DenseParameterCount()).Message,
        })
            Assert.Contains("set size N", message);
        var dense = linear.ToDenseModule(4);
        Assert.Contains("N = 4", Assert.Throws<ArgumentException>(() => dense.forward(randn(2, 5, 3))).Message);
    }

    [Fact]
    public void MeasureIsZeroForTheLayersAndLargeForAPerturbedDenseWeight()
    {
        var layer = PermutationLayers.PermutationEquivariantLinear(3, 2, dtype: ScalarType.Float64);
        Assert.True(layer.MeasureEquivariance(6, new Generator(5)) <= 1e-12);
        Assert.True(PermutationLayers.PermutationEquivariantQuadratic(3, 2, dtype: ScalarType.Float64).MeasureEquivariance(6, new Generator(6)) <= 1e-12);
        // the dense Linear has N² blocks free: break one and equivariance is gone
        var dense = layer.ToDenseModule(6);
        using (no_grad()) ((Linear)dense.children().Single()).weight[0, 5] += 1.0;
        Assert.True(PermutationChecks.EquivarianceDeviation(dense.forward, 3, ScalarType.Float64, 6, trials: 5, seed: 7) > 1e-2);
    }
}
