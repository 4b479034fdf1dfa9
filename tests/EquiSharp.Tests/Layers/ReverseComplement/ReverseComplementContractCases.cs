using EquiSharp.Layers;
using EquiSharp.Layers.ReverseComplement;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Layers.ReverseComplement;

/// <summary>Contract cases of the reverse-complement layers (see <see cref="EquivariantModuleContractTests"/>).</summary>
public sealed class ReverseComplementContractCases : IContractCaseSource
{
    public IEnumerable<ContractCase> Cases()
    {
        yield return new("rc.conv1d", typeof(RcConv1d), () =>
        {
            var conv = new RcConv1d(4, 3, 5);
            using (no_grad()) conv.TiedBias!.Theta.normal_();
            conv.InvalidateCache();
            return conv;
        }, 30, (l, g) => ReverseComplementLayerTests.OneHot(2, l, g));
        yield return new("rc.batchnorm1d", typeof(RcBatchNorm1d), () =>
        {
            var bn = new RcBatchNorm1d(6);
            using (no_grad())
            {
                bn.Shared.running_mean!.normal_();
                bn.Shared.running_var!.uniform_(0.5, 2);
                bn.Shared.weight!.normal_();
                bn.Shared.bias!.normal_();
            }
            return bn;
        }, 12, (l, g) => randn(new[] { 3, 6, l }, generator: g));
        yield return new("rc.maxpool1d", typeof(RcMaxPool1d), () => new RcMaxPool1d(4, 2, 20), 20, (l, g) => randn(new[] { 2, 6, l }, generator: g));
        yield return new("rc.weighted_sum", typeof(RcWeightedSum), () => new RcWeightedSum(6, 9), 9, (l, g) => randn(new[] { 3, 6, l }, generator: g));
        yield return new("rc.dense", typeof(RcDense), () =>
        {
            var dense = new RcDense(6, 2);
            using (no_grad()) dense.Bias.normal_();
            return dense;
        }, 1, (_, g) => randn(new long[] { 4, 6 }, generator: g));
        yield return new("rc.dense (frozen ones)", typeof(RcDense), () => new RcDense(6, 1, frozenOnes: true), 1, (_, g) => randn(new long[] { 4, 6 }, generator: g));
    }
}
