using EquiSharp.Layers.Pairwise;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers;

/// <summary>
/// Exactness of the FFT convolutions against libtorch's direct ones: one 13×13 convolution (forward and gradients,
/// fp32) and a pair stage with the paper's 13/9/5 branches, whose output on a symmetric map must stay symmetric and
/// equal the direct stage's, on dense and packed maps.
/// </summary>
[CheckFamily(Order = 3)]
public static class FourierChecks
{
    public static IEnumerable<EquivarianceCheck> All()
    {
        yield return new("perf.fourier conv k=13 (40 → 8, 30 × 70): forward equals conv2d", () =>
        {
            var g = new Generator(71);
            var x = randn(new long[] { 2, 40, 30, 70 }, generator: g);
            var w = randn(new long[] { 8, 40, 13, 13 }, generator: g).mul(KeptScalar.Of(0.05));
            using var _ = no_grad();
            return Deviation.Relative(FourierConvolution.Valid(x, w), nn.functional.conv2d(x, w));
        });
        foreach (var check in EquivarianceCheck.PerBlock("perf.fourier conv k=9: gradients equal conv2d", new[] { "input", "kernel" }, () =>
        {
            var g = new Generator(72);
            var x = randn(new long[] { 2, 6, 25, 40 }, generator: g);
            var w = randn(new long[] { 5, 6, 9, 9 }, generator: g);
            var up = randn(new long[] { 2, 5, 17, 32 }, generator: g);
            Tensor[] Grad(Func<Tensor, Tensor, Tensor> conv)
            {
                var (xv, wv) = (x.detach().requires_grad_(true), w.detach().requires_grad_(true));
                return autograd.grad(new[] { conv(xv, wv) }, new[] { xv, wv }, new[] { up }).ToArray();
            }
            return Grad((a, b) => FourierConvolution.Valid(a, b)).Zip(Grad((a, b) => nn.functional.conv2d(a, b))).ToArray();
        }))
            yield return check;
        foreach (bool packed in new[] { false, true })
        {
            string maps = packed ? "packed" : "dense";
            yield return new($"perf.fourier pair stage 13/9/5 ({maps}, L=29): symmetric output", () => Stage(packed, ConvolutionAlgorithm.Fourier, out _));
            yield return new($"perf.fourier pair stage 13/9/5 ({maps}, L=29): equals the direct stage", () =>
            {
                Stage(packed, ConvolutionAlgorithm.Fourier, out var fourier);
                Stage(packed, ConvolutionAlgorithm.Direct, out var direct);
                return Deviation.Relative(fourier, direct);
            });
        }
    }

    /// <summary>Runs the stage on a symmetric map by <paramref name="algorithm"/>; returns the output's asymmetry.</summary>
    private static double Stage(bool packed, ConvolutionAlgorithm algorithm, out Tensor output)
    {
        var g = new Generator(73);
        using var stage = new PairConvStage(3, new (long, long)[] { (13, 3), (9, 3), (5, 2) }, symmetric: true, PairActivation.ReLU) { Algorithm = algorithm };
        foreach (var conv in stage.Branches.Cast<SymmetryPreservingConv2d>()) conv.ResetParameters(g);
        var a = randn(new long[] { 2, 3, 29, 29 }, generator: g);
        var x = a.add(a.transpose(2, 3), KeptScalar.One);
        using var _ = no_grad();
        output = packed
            ? PairConvStage.ForwardPacked(new[] { stage }, Pairwise.Packed.PackedSymmetricMap.Pack(x, Pairwise.Packed.PackedLayout.Default(29, stage.Reach)), null).Unpack()
            : stage.forward(x, null);
        return Deviation.Asymmetry(output);
    }
}
