using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Separable;
using EquiSharp.Tests.Layers;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.Pairwise;

/// <summary>Contract cases of the SCNN layers (see <see cref="EquivariantModuleContractTests"/>).</summary>
public sealed class PairwiseContractCases : IContractCaseSource
{
    private static Tensor Sequences(long l, Generator g) => randn(new[] { 2, l, 3 }, generator: g);
    private static Tensor SymmetricMaps(long channels, long l, Generator g)
    {
        var a = randn(new[] { 2, channels, l, l }, generator: g);
        return a.add(a.transpose(2, 3), KeptScalar.One);
    }

    public IEnumerable<ContractCase> Cases()
    {
        yield return new("pairwise.generating", typeof(SymmetryGeneratingConv2d),
            () => WithBias(PairLayers.SymmetryGeneratingConv2d(6, 4, kernel_size: 3)), 9,
            (l, g) => PairLayers.SelfCartesian().forward(Sequences(l, g)));
        yield return new("pairwise.preserving", typeof(SymmetryPreservingConv2d),
            () => WithBias(PairLayers.SymmetryPreservingConv2d(4, 5, kernel_size: 5, dilation: 2)), 11,
            (l, g) => SymmetricMaps(4, l, g));
        yield return new("pairwise.multikernel", typeof(MultiKernelSymmetricConv2d),
            () => PairLayers.MultiKernelSymmetricConv2d(4, new (long, long)[] { (7, 3), (5, 3), (3, 2) }), 10,
            (l, g) => SymmetricMaps(4, l, g));
        yield return new("pairwise.batchnorm", typeof(PairBatchNorm2d), TrainedBatchNorm, 8,
            (l, g) => SymmetricMaps(3, l, g));
        yield return new("pairwise.separable-generating", typeof(SeparableSymmetryGeneratingConv2d),
            () => new SeparableSymmetryGeneratingConv2d(WithBias(PairLayers.SymmetryGeneratingConv2d(6, 4, kernel_size: 3))), 9,
            Sequences);
    }

    private static T WithBias<T>(T conv) where T : SymmetricConv2d
    {
        using (no_grad()) conv.Bias!.normal_();
        return conv;
    }

    /// <summary>A pair batch norm with non-trivial affine parameters and running statistics (two training steps).</summary>
    internal static PairBatchNorm2d TrainedBatchNorm()
    {
        var bn = new PairBatchNorm2d(3);
        using (no_grad())
        {
            bn.Weight.uniform_(0.5, 2);
            bn.Bias.normal_();
            for (int step = 0; step < 2; step++) bn.forward(randn(2, 3, 6, 6).mul(KeptScalar.Of(3)).add(KeptScalar.Of(2), KeptScalar.One));
        }
        return bn;
    }
}
