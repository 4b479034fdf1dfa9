using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Group;

/// <summary>Exactness checks of the p4 / p4m layers: each rotates (and mirrors) the input and compares with the transformed output.</summary>
[CheckFamily(Order = 2)]
public static class GroupChecks
{
    /// <summary>
    /// The engine's gradient of ψ against Σ over each orbit of ∂L/∂W, where ∂L/∂W comes from the exported plain
    /// convolution on the same input and loss (so autograd through the gather is not used for the reference).
    /// </summary>
    private static double OrbitSumGradient(PlanarGroup group)
    {
        var g = new Generator(67);
        var conv = new GroupConv2d(group, 2, 3, 3);
        conv.ResetParameters(g);
        var dense = conv.ToDense();
        var x = randn(new[] { 2, conv.InChannels, 9, 9 }, generator: g);
        var target = randn(new[] { 2, conv.OutChannels, 7, 7 }, generator: g);
        conv.forward(x).tanh().sub(target).pow(KeptScalar.Of(2)).sum().backward();
        dense.forward(x).tanh().sub(target).pow(KeptScalar.Of(2)).sum().backward();
        var partition = ((Symmetry.OrbitTying)conv.TiedKernel.Tying).Partition;
        var orbitOf = tensor(partition.OrbitOf.Select(o => (long)o).ToArray());
        var orbitSums = zeros(partition.Count).index_add(0, orbitOf, dense.weight!.grad!.reshape(-1), KeptScalar.Of(1.0));
        return Deviation.Relative(conv.TiedKernel.Theta.grad!, orbitSums);
    }

    /// <summary>Non-zero tied biases (they start at zero), so the checks also cover the bias tying.</summary>
    private static void RandomBias(PlanarGroupConvolution conv, Generator g)
    {
        using var _ = no_grad();
        conv.TiedBias!.Theta.copy_(randn(conv.TiedBias.Theta.shape, generator: g));
        conv.InvalidateCache();
    }

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
            yield return new($"{n}.group conv 3x3 dilation 2, 15x15: L_u input -> L_u output", () =>
            {
                var g = new Generator(45);
                var conv = new GroupConv2d(group, 2, 3, 3, dilation: 2);
                conv.ResetParameters(g);
                return conv.MeasureEquivariance(15, g);
            });
            yield return new($"{n}.group conv: dL/dtheta = orbit sum of dL/dW of the dense conv", () => OrbitSumGradient(group));
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
}
