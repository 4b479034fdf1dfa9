using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Pairwise.Separable;

/// <summary>
/// Exactness of the separable generating layer against its dense definition, the symmetry-generating convolution on
/// the materialised self-Cartesian product (forward on a padded batch, gradients).
/// </summary>
[CheckFamily(Order = 1)]
public static class SeparableChecks
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
    }
}
