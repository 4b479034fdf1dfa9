using EquiSharp.Pairwise;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Verification;

/// <summary>Exactness checks of the SCNN layers (symmetric outputs, dense export, tied kernels).</summary>
[CheckFamily(Order = 0)]
public static class PairwiseChecks
{
    public static IEnumerable<EquivarianceCheck> All()
    {
        foreach (int k in new[] { 1, 3, 5 })
            yield return new($"pairwise.generating k={k}: output symmetric on self-Cartesian input", () =>
            {
                var g = new Generator((ulong)(11 + k));
                var conv = PairLayers.SymmetryGeneratingConv2d(2 * 6, 8, k);
                conv.ResetParameters(g);
                var x = PairLayers.SelfCartesian().forward(randn(2, 17, 6, generator: g));
                return Deviation.Asymmetry(conv.forward(x));
            });
        foreach (int k in new[] { 3, 5 })
            yield return new($"pairwise.preserving k={k}: symmetric input -> symmetric output", () =>
            {
                var g = new Generator((ulong)(23 + k));
                var conv = PairLayers.SymmetryPreservingConv2d(5, 7, k, dilation: 2);
                conv.ResetParameters(g);
                var a = randn(2, 5, 16, 16, generator: g);
                return Deviation.Asymmetry(conv.forward(a + a.transpose(2, 3)));
            });
        yield return new("pairwise.multikernel 13/9/5: symmetric input -> symmetric output", () =>
        {
            var g = new Generator((ulong)(5));
            var block = PairLayers.MultiKernelSymmetricConv2d(4, new (long, long)[] { (13, 3), (9, 3), (5, 2) });
            foreach (var b in block.Branches) b.ResetParameters(g);
            var a = randn(1, 4, 20, 20, generator: g);
            return Deviation.Asymmetry(block.forward(a + a.transpose(2, 3)));
        });
        yield return new("pairwise.preserving: ToDense() conv equals the layer", () =>
        {
            var conv = PairLayers.SymmetryPreservingConv2d(3, 4, 5);
            var x = randn(2, 3, 12, 12);
            return Deviation.Relative(conv.ToDense().forward(x), conv.forward(x));
        });
        yield return new("pairwise.generating: kernel invariant under its symmetry group", () =>
        {
            var conv = PairLayers.SymmetryGeneratingConv2d(8, 4, 3);
            var w = conv.Weight().contiguous().data<float>().ToArray();
            return conv.Symmetry.IsInvariant(w, 0f) ? 0.0 : 1.0;
        });
    }
}
