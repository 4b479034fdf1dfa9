using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Group;

/// <summary>Exactness checks of the p4 / p4m layers: each rotates (and mirrors) the input and compares with the transformed output.</summary>
[CheckFamily(Order = 2)]
public static class GroupChecks
{
    public static IEnumerable<EquivarianceCheck> All()
    {
        foreach (var group in new[] { PlanarGroup.P4, PlanarGroup.P4m })
        {
            string n = group.Name;
            foreach (long size in new long[] { 15, 16 })
                yield return new($"{n}.lifting 3x3 valid, {size}x{size}: L_u input -> L_u output", () =>
                {
                    var g = new Generator((ulong)(31 + size));
                    var conv = new GroupLiftingConv2d(group, 2, 5, 3);
                    conv.ResetParameters(g);
                    RandomBias(conv, g);
                    return conv.MeasureEquivariance(size, g);
                });
            yield return new($"{n}.group conv 3x3 'same', 14x14: L_u input -> L_u output", () =>
            {
                var g = new Generator(41);
                var conv = new GroupConv2d(group, 3, 4, 3, padding: ConvolutionPadding.Same);
                conv.ResetParameters(g);
                RandomBias(conv, g);
                return conv.MeasureEquivariance(14, g);
            });
            yield return new($"{n}.group conv 4x4 stride 2, 16x16: L_u input -> L_u output", () =>
            {
                var g = new Generator(43);
                var conv = new GroupConv2d(group, 3, 4, 4, stride: 2);
                conv.ResetParameters(g);
                return conv.MeasureEquivariance(16, g);
            });
            yield return new($"{n}.group conv: ToDense() conv equals the layer", () =>
            {
                var g = new Generator(47);
                var conv = new GroupConv2d(group, 2, 3, 3);
                conv.ResetParameters(g);
                RandomBias(conv, g);
                var x = randn(new[] { 2, conv.InChannels, 9, 9 }, generator: g);
                return Deviation.Relative(conv.ToDense().forward(x), conv.forward(x));
            });
            yield return new($"{n}.group max-pool and mean-pool: L_u input -> L_u output", () =>
                Math.Max(new GroupPool(group, "max").MeasureEquivariance(11, new Generator(53)),
                         new GroupPool(group, "mean").MeasureEquivariance(12, new Generator(54))));
            yield return new($"{n}.spatial max-pool 2x2 on 24x24: L_u input -> L_u output", () =>
                new GroupMaxPool2d(group, 2).MeasureEquivariance(24, new Generator(59)));
            yield return new($"{n}.group batch norm (training statistics): L_u input -> L_u output", () =>
                new GroupBatchNorm2d(group, 3).MeasureEquivariance(10, new Generator(61)));
        }
    }

    /// <summary>Non-zero tied biases (they start at zero), so the checks also cover the bias tying.</summary>
    private static void RandomBias(PlanarGroupConvolution conv, Generator g)
    {
        using var _ = no_grad();
        conv.TiedBias!.Theta.copy_(randn(conv.TiedBias.Theta.shape, generator: g));
        conv.InvalidateCache();
    }
}
