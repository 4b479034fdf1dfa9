using EquiSharp.Applications.Images;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Layers.Group;
using EquiSharp.Tests.Layers.Group;
using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Images;

public sealed class AllCnnCTests
{
    /// <summary>The presets' counts (the three within 0.4% of each other); printed by <c>cifar info</c>.</summary>
    [Theory]
    [InlineData("allcnn-z2", 1, 1_693_546, 1_693_546)]
    [InlineData("allcnn-p4", 4, 1_692_922, 6_771_688)]
    [InlineData("allcnn-p4m", 8, 1_699_636, 13_597_088)]
    public void ParameterCountsAreComparable(string model, int order, long free, long dense)
    {
        using var net = PlanarCnnSpec.Preset(model).Build();
        Assert.IsType<AllCnnC>(net);
        Assert.Equal(order, net.Group.Order);
        Assert.Equal(free, net.FreeParameterCount);
        Assert.Equal(dense, net.DenseParameterCount());
        // nine convolutions, as in Springenberg et al.
        Assert.Equal(9, net.modules().Count(m => m is PlanarGroupConvolution));
    }

    /// <summary>
    /// Rotating a 32×32 colour input by every element of the group (loop-built transform, not the library's) leaves the
    /// class scores unchanged; the dense export computes the same scores. A narrow width keeps it fast; the full
    /// presets are checked by <c>equisharp verify</c>.
    /// </summary>
    [Theory]
    [InlineData("allcnn-p4", 4)]
    [InlineData("allcnn-p4m", 8)]
    public void ClassScoresAreInvariantUnderEveryGroupElement(string model, int order)
    {
        manual_seed(14);
        using var net = (PlanarCnnSpec.Preset(model) with { Width = 4 }).Build();
        ImageChecks.TrainBatchNormStatistics(net);
        var G = new MatrixGroup(order);
        var x = rand(3, 3, 32, 32);
        using var _ = no_grad();
        var y = net.forward(x);
        Assert.Equal(new long[] { 3, 10 }, y.shape);
        Assert.True(y.abs().max().item<float>() > 0, "all class scores are zero: the test could not fail");
        for (int u = 1; u < order; u++)
        {
            var yu = net.forward(MatrixGroup.ToTensor(G.Transform(MatrixGroup.ToArray(x), u, false)));
            Assert.True(Deviation.Relative(yu, y) <= 1e-5, $"{model} u={u}: {Deviation.Relative(yu, y)}");
        }
        using var dense = net.ToDenseModule();
        Assert.True(Deviation.Relative(dense.forward(x), y) <= 1e-5);
    }

    [Fact]
    public void TheZ2VariantIsNotRotationInvariant()
    {
        manual_seed(15);
        using var net = (PlanarCnnSpec.Preset("allcnn-z2") with { Width = 8 }).Build();
        ImageChecks.TrainBatchNormStatistics(net);
        using var _ = no_grad();
        double deviation = GroupEquivariance.Measure(PlanarGroup.P4, net.forward, rand(3, 3, 32, 32), false, false, outputIsSpatial: false);
        Assert.True(deviation > 1e-3, $"Z2 All-CNN-C moved only {deviation} under a 90° rotation");
    }

    [Fact]
    public void AThreeByThreeStridedLayerWouldBreakExactness()
    {
        // why AllCnnC's strided layers use 4×4 windows: the same p4 layer with a 3×3 window at stride 2 on a 32×32 map is not equivariant
        manual_seed(16);
        using var strided3 = new GroupConv2d(PlanarGroup.P4, 2, 2, 3, stride: 2, padding: 1);
        using var strided4 = new GroupConv2d(PlanarGroup.P4, 2, 2, AllCnnC.StridedKernel, stride: 2, padding: 1);
        var x = rand(2, 8, 32, 32);
        Assert.True(GroupEquivariance.Measure(PlanarGroup.P4, strided3.forward, x, true, true) > 1e-2);
        Assert.True(GroupEquivariance.Measure(PlanarGroup.P4, strided4.forward, x, true, true) <= 1e-5);
    }
}
