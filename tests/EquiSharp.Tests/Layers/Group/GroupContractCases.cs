using EquiSharp.Layers;
using EquiSharp.Layers.Group;
using EquiSharp.Tests.Layers;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.Group;

/// <summary>Contract cases of the p4 / p4m layers (see <see cref="EquivariantModuleContractTests"/>); size is the map side.</summary>
public sealed class GroupContractCases : IContractCaseSource
{
    public IEnumerable<ContractCase> Cases()
    {
        static Func<long, Generator, Tensor> Maps(long channels) => (l, g) => randn(new[] { 2, channels, l, l }, generator: g);
        yield return new("group.lifting p4", typeof(GroupLiftingConv2d), () => WithBias(new GroupLiftingConv2d(PlanarGroup.P4, 2, 3, 3)), 11, Maps(2));
        yield return new("group.conv p4m", typeof(GroupConv2d), () => WithBias(new GroupConv2d(PlanarGroup.P4m, 2, 3, 3, padding: ConvolutionPadding.Same)), 10, Maps(16));
        yield return new("group.pool p4", typeof(GroupPool), () => new GroupPool(PlanarGroup.P4, "mean"), 9, Maps(8));
        yield return new("group.maxpool p4m", typeof(GroupMaxPool2d), () => new GroupMaxPool2d(PlanarGroup.P4m, 3, 2), 13, Maps(16));
        yield return new("group.batchnorm p4", typeof(GroupBatchNorm2d), () =>
        {
            var bn = new GroupBatchNorm2d(PlanarGroup.P4, 2);
            using (no_grad()) bn.forward(randn(4, 8, 6, 6).mul(KeptScalar.Of(2)).add(KeptScalar.Of(1), KeptScalar.One));   // non-trivial running statistics
            return bn;
        }, 8, Maps(8));
    }

    private static T WithBias<T>(T conv) where T : PlanarGroupConvolution
    {
        using (no_grad()) conv.TiedBias!.Theta.normal_();
        conv.InvalidateCache();
        return conv;
    }
}
