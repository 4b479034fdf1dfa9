using EquiSharp.Applications.Images.Models;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Applications.Images;

/// <summary>
/// Whole-network checks: P4CNN / P4MCNN class scores do not change when a 28×28 input is rotated (and mirrored), nor
/// those of the p4 / p4m All-CNN-C for a 32×32 colour input.
/// </summary>
[CheckFamily(Order = 3)]
public static class ImageChecks
{
    public static IEnumerable<EquivarianceCheck> All() => new[] { "p4cnn", "p4mcnn", "allcnn-p4", "allcnn-p4m" }.Select(model =>
    {
        var spec = PlanarCnnSpec.Preset(model);
        return new EquivarianceCheck($"{model}: class scores invariant under its group, {spec.ImageSide}x{spec.ImageSide}x{spec.InputChannels} (eval mode)", () =>
        {
            manual_seed(71);
            using var net = spec.Build();
            TrainBatchNormStatistics(net);
            return net.MeasureEquivariance(spec.ImageSide, new Generator(73));
        });
    });

    /// <summary>One forward pass in training mode so batch norm's running statistics are not the trivial (0, 1).</summary>
    public static void TrainBatchNormStatistics(PlanarClassifier net)
    {
        using var _ = no_grad();
        net.train();
        net.forward(rand(8, net.Spec.InputChannels, net.Spec.ImageSide, net.Spec.ImageSide).mul(KeptScalar.Of(2)));
        net.eval();
    }
}
