using EquiSharp.Layers.Permutation;
using EquiSharp.Tests.Layers;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Layers.Permutation;

/// <summary>Contract cases of the set layers (see <see cref="EquivariantModuleContractTests"/>); size is the set size N.</summary>
public sealed class PermutationContractCases : IContractCaseSource
{
    public IEnumerable<ContractCase> Cases()
    {
        static Tensor Sets(long n, Generator g) => randn(new[] { 4, n, 3 }, generator: g);
        yield return new("permutation.linear", typeof(PermutationEquivariantLinear), () =>
        {
            var layer = PermutationLayers.PermutationEquivariantLinear(3, 2);
            using (no_grad()) layer.Bias!.normal_();
            return layer;
        }, 5, Sets);
        yield return new("permutation.quadratic", typeof(PermutationEquivariantQuadratic),
            () => PermutationLayers.PermutationEquivariantQuadratic(3, 2), 4, Sets);
    }
}
