using EquiSharp.Pairwise;
using EquiSharp.Pairwise.Packed;
using EquiSharp.Pairwise.Separable;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Verification;

/// <summary>
/// Exactness of the fast paths against their dense definitions: the separable generating layer vs conv on the
/// materialised self-Cartesian product, and packed symmetric maps vs dense maps (forward and gradients).
/// </summary>
[CheckFamily(Order = 1)]
public static class PerformanceChecks
{
    public static IEnumerable<EquivarianceCheck> All()
    {
        foreach (int k in new[] { 1, 3, 5 })
            yield return new($"perf.separable-generating k={k}: equals dense path (forward, padded batch)", () =>
            {
                var g = new Generator((ulong)(31 + k));
                var layer = new SeparableSymmetryGeneratingConv2d(4, 5, k);
                layer.Conv.ResetParameters(g);
                using (no_grad()) layer.Conv.Bias!.normal_(generator: g);
                var x = randn(new long[] { 3, 12, 4 }, generator: g);
                var lengths = tensor(new long[] { 12, 7, 2 });
                var dense = layer.Conv.forward(PairLayers.SelfCartesian().forward(x, lengths)).mul(PairMask.FromLengths(lengths, 12));
                return Deviation.Relative(layer.forward(x, lengths), dense);
            });
        foreach (var check in EquivarianceCheck.PerBlock("perf.separable-generating k=3: gradients equal dense path", new[] { "input", "θ" }, () =>
        {
            var g = new Generator(41);
            var layer = new SeparableSymmetryGeneratingConv2d(3, 4, 3);
            layer.Conv.ResetParameters(g);
            var x = randn(new long[] { 2, 11, 3 }, generator: g);
            var up = randn(new long[] { 2, 4, 11, 11 }, generator: g);
            Tensor[] Grad(Func<Tensor, Tensor> f)
            {
                var xv = x.detach().requires_grad_(true);
                layer.zero_grad();
                f(xv).mul(up).sum().backward();
                return new[] { xv.grad!.clone(), layer.Conv.TiedKernel.Theta.grad!.clone() };
            }
            var dense = Grad(xv => layer.Conv.forward(PairLayers.SelfCartesian().forward(xv)));
            return Grad(xv => layer.forward(xv)).Zip(dense).ToArray();
        }))
            yield return check;
        foreach (var (name, layout) in new (string, PackedLayout)[] { ("folded", PackedLayout.Folded(13, 2)), ("tiled T=4", PackedLayout.Tiled(13, 4)) })
            yield return new($"perf.packed conv k=5 (L=13, {name}): forward equals dense", () =>
            {
                var g = new Generator(51);
                var conv = PairLayers.SymmetryPreservingConv2d(3, 4, 5);
                conv.ResetParameters(g);
                var a = randn(new long[] { 2, 3, 13, 13 }, generator: g);
                var d = a + a.transpose(2, 3);
                var packed = new PackedSymmetryPreservingConv2d(conv).forward(PackedSymmetricMap.Pack(d, layout)).Unpack();
                return Deviation.Relative(packed, conv.forward(d));
            });
        foreach (var (name, layout) in new (string, PackedLayout)[] { ("folded", PackedLayout.Folded(12, 1)), ("tiled T=4", PackedLayout.Tiled(12, 4)) })
            foreach (var check in EquivarianceCheck.PerBlock($"perf.packed stack conv/BN/ReLU ({name}): loss gradients equal dense", new[] { "input", "θ", "γ", "β" }, () =>
            {
                var g = new Generator(61);
                var conv = PairLayers.SymmetryPreservingConv2d(2, 3, 3);
                conv.ResetParameters(g);
                var bn = nn.BatchNorm2d(3);
                var dense = nn.Sequential(("c", conv), ("bn", bn), ("r", nn.ReLU()));
                var packed = PackedSequential.From(new nn.Module[] { conv, bn, nn.ReLU() });
                var a = randn(new long[] { 2, 2, 12, 12 }, generator: g);
                var up = randn(new long[] { 2, 3, 12, 12 }, generator: g);
                Tensor[] Grad(Func<Tensor, Tensor> f)
                {
                    var av = a.detach().requires_grad_(true);
                    dense.zero_grad();
                    f(av + av.transpose(2, 3)).mul(up).sum().backward();
                    return new[] { av.grad!.clone(), conv.TiedKernel.Theta.grad!.clone(), bn.weight!.grad!.clone(), bn.bias!.grad!.clone() };
                }
                var gd = Grad(dense.forward);
                return Grad(d => packed.forward(PackedSymmetricMap.Pack(d, layout)).Unpack()).Zip(gd).ToArray();
            }, tolerance: 1e-4))
                yield return check;
    }
}
