using EquiSharp.Applications.Images;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Tests.Layers.Group;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Images;

public sealed class PlanarCnnTests
{
    [Theory]
    [InlineData("z2cnn", 1, 21630)]
    [InlineData("p4cnn", 4, 24620)]
    [InlineData("p4mcnn", 8, 26757)]
    public void ParameterCountsAreComparable(string model, int order, long expected)
    {
        using var net = PlanarCnnSpec.Preset(model).Build();
        Assert.Equal(order, net.Group.Order);
        Assert.Equal(expected, net.FreeParameterCount);
        Assert.Equal(new long[] { 2, 10 }, net.forward(rand(2, 1, 28, 28)).shape);
    }

    [Theory]
    [InlineData("p4cnn", 4)]
    [InlineData("p4mcnn", 8)]
    public void ClassScoresAreInvariantUnderEveryGroupElement(string model, int order)
    {
        manual_seed(8);
        using var net = PlanarCnnSpec.Preset(model).Build();
        ImageChecks.TrainBatchNormStatistics(net);
        var G = new MatrixGroup(order);
        var x = rand(3, 1, 28, 28);
        using var _ = no_grad();
        var y = net.forward(x);
        for (int u = 1; u < order; u++)
        {
            var yu = net.forward(MatrixGroup.ToTensor(G.Transform(MatrixGroup.ToArray(x), u, false)));
            Assert.True(EquiSharp.Verification.Deviation.Relative(yu, y) <= 1e-5, $"{model} u={u}: {EquiSharp.Verification.Deviation.Relative(yu, y)}");
        }
        using var dense = net.ToDenseModule();
        dense.eval();
        Assert.True(EquiSharp.Verification.Deviation.Relative(dense.forward(x), y) <= 1e-5);
        Assert.True(net.DenseParameterCount() > net.FreeParameterCount);
    }

    [Fact]
    public void TheZ2BaselineIsNotRotationInvariant()
    {
        manual_seed(9);
        using var net = PlanarCnnSpec.Preset("z2cnn").Build();
        ImageChecks.TrainBatchNormStatistics(net);
        var r = ImageEvaluation.Evaluate(net, new EquiSharp.Applications.Images.Formats.LabelledImages("x", 28, rand(4 * 784).data<float>().ToArray(),
            new byte[] { 1, 2, 3, 4 }, new[] { 0, 1, 2, 3 }), CPU, transformGroup: EquiSharp.Layers.Group.PlanarGroup.P4);
        Assert.True(r.MaxLogitDeviation > 1e-3);
    }
}
