using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise.Packed;

/// <summary>
/// Exactness of packed symmetric maps against dense maps: a packed preserving convolution (forward) and a stack of
/// pair-network stages run packed (loss gradients), in the folded and tiled layouts.
/// </summary>
[CheckFamily(Order = 2)]
public static class PackedChecks
{
    public static IEnumerable<EquivarianceCheck> All()
    {
        foreach (var (name, layout) in new (string, PackedLayout)[] { ("folded", PackedLayout.Folded(13, 2)), ("tiled T=4", PackedLayout.Tiled(13, 4)) })
            yield return new($"perf.packed conv k=5 (L=13, {name}): forward equals dense", () =>
            {
                var g = new Generator(51);
                var conv = PairLayers.SymmetryPreservingConv2d(3, 4, 5);
                conv.ResetParameters(g);
                var a = randn(new long[] { 2, 3, 13, 13 }, generator: g);
                var d = a.add(a.transpose(2, 3), KeptScalar.One);
                var packed = new PackedSymmetryPreservingConv2d(conv).forward(PackedSymmetricMap.Pack(d, layout)).Unpack();
                return Deviation.Relative(packed, conv.forward(d));
            });
        foreach (var (name, layout) in new (string, PackedLayout)[] { ("folded", PackedLayout.Folded(12, 1)), ("tiled T=4", PackedLayout.Tiled(12, 4)) })
            foreach (var check in EquivarianceCheck.PerBlock($"perf.packed stack conv/BN/ReLU ({name}): loss gradients equal dense", new[] { "input", "θ", "γ", "β" }, () =>
            {
                // the pair network's stages, run by the one packed path the models and `bench symconv` run
                var g = new Generator(61);
                var stages = new[] { new PairConvStage(2, new (long, long)[] { (3, 3) }, symmetric: true, PairActivation.ReLU) };
                var conv = (SymmetryPreservingConv2d)stages[0].Branches[0];
                var bn = stages[0].Norm!;
                conv.ResetParameters(g);
                var a = randn(new long[] { 2, 2, 12, 12 }, generator: g);
                var up = randn(new long[] { 2, 3, 12, 12 }, generator: g);
                Tensor[] Grad(Func<Tensor, Tensor> f)
                {
                    var av = a.detach().requires_grad_(true);
                    stages[0].zero_grad();
                    f(av.add(av.transpose(2, 3), KeptScalar.One)).mul(up).sum().backward();
                    return new[] { av.grad!.clone(), conv.TiedKernel.Theta.grad!.clone(), bn.Weight.grad!.clone(), bn.Bias.grad!.clone() };
                }
                var gd = Grad(d => PairConvStage.Forward(stages, d, null));
                return Grad(d => PairConvStage.ForwardPacked(stages, PackedSymmetricMap.Pack(d, layout), null).Unpack()).Zip(gd).ToArray();
            }, tolerance: 1e-4))
                yield return check;
    }
}
