using EquiSharp.Applications.Images.Models;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Images;

/// <summary>Whole-network checks: P4CNN and P4MCNN class scores do not change when a 28×28 input is rotated (and mirrored).</summary>
[CheckFamily(Order = 3)]
public static class ImageChecks
{
    public static IEnumerable<EquivarianceCheck> All() => new[] { "p4cnn", "p4mcnn" }.Select(model =>
        new EquivarianceCheck($"{model}: class scores invariant under its group, 28x28 (eval mode)", () =>
        {
            manual_seed(71);
            var net = PlanarCnnSpec.Preset(model).Build();
            TrainBatchNormStatistics(net);
            return net.MeasureEquivariance(28, new Generator(73));
        }));

    /// <summary>One forward pass in training mode so batch norm's running statistics are not the trivial (0, 1).</summary>
    public static void TrainBatchNormStatistics(PlanarCnn net)
    {
        using var _ = no_grad();
        net.train();
        net.forward(rand(8, 1, 28, 28) * 2);
        net.eval();
    }
}
