using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise;

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
                return Deviation.Asymmetry(conv.forward(a.add(a.transpose(2, 3), KeptScalar.One)));
            });
        yield return new("pairwise.multikernel 13/9/5: symmetric input -> symmetric output", () =>
        {
            var g = new Generator((ulong)(5));
            var block = PairLayers.MultiKernelSymmetricConv2d(4, new (long, long)[] { (13, 3), (9, 3), (5, 2) });
            foreach (var b in block.Branches) b.ResetParameters(g);
            var a = randn(1, 4, 20, 20, generator: g);
            return Deviation.Asymmetry(block.forward(a.add(a.transpose(2, 3), KeptScalar.One)));
        });
        foreach (int dilation in new[] { 2, 3 })
            yield return new($"pairwise.preserving k=5 dilation {dilation}: ToDense() conv equals conv2d with an eq. (4) kernel built independently", () =>
            {
                var g = new Generator((ulong)(70 + dilation));
                var q = PaperKernelRelations.PreservingKernel(randn(new long[] { 4, 3, 5, 5 }, generator: g));
                var bias = randn(new long[] { 4 }, generator: g);
                var conv = PairLayers.SymmetryPreservingConv2d(3, 4, 5, dilation: dilation);
                conv.TiedKernel.LoadFromDense(q);
                using (no_grad()) conv.Bias!.copy_(bias);
                var x = randn(new long[] { 2, 3, 14, 14 }, generator: g);
                long pad = dilation * 2;
                var expected = nn.functional.conv2d(x, q, bias, padding: new[] { pad, pad }, dilation: new long[] { dilation, dilation });
                return Deviation.Relative(conv.ToDense().forward(x), expected);
            });
        yield return new("pairwise.generating k=3: kernel satisfies the eq. (2) entry relations (explicit loops)", () =>
        {
            var conv = PairLayers.SymmetryGeneratingConv2d(8, 4, 3);
            conv.ResetParameters(new Generator(81));
            return PaperKernelRelations.GeneratingViolation(conv.Weight());
        }, Tolerance: 0);
        yield return new("pairwise.generating wide k=3: kernel satisfies the Theorem 1 relation W[i,j,k] = W[j,i,n+k] (explicit loops)", () =>
        {
            var conv = PairLayers.SymmetryGeneratingConv2d(8, 4, 3, wide: true);
            conv.ResetParameters(new Generator(82));
            return PaperKernelRelations.WideGeneratingViolation(conv.Weight());
        }, Tolerance: 0);
        yield return new("pairwise.preserving k=5: kernel satisfies the eq. (4) entry relations (explicit loops)", () =>
        {
            var conv = PairLayers.SymmetryPreservingConv2d(3, 4, 5);
            conv.ResetParameters(new Generator(83));
            return PaperKernelRelations.PreservingViolation(conv.Weight());
        }, Tolerance: 0);
    }
}
