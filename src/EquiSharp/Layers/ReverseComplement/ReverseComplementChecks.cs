using EquiSharp.Applications.Dna.Models;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.ReverseComplement;

/// <summary>Exactness checks of the reverse-complement family (Shrikumar et al. §3.1) for <c>equisharp verify</c>.</summary>
[CheckFamily(Order = 30)]
public static class ReverseComplementChecks
{
    public static IEnumerable<EquivarianceCheck> All()
    {
        yield return new("rc.conv1d (4 -> 2x20, k=21): conv(rc(x)) = rc(conv(x))", () => Layer(() => new RcConv1d(4, 20, 21), 200, 1));
        yield return new("rc.conv1d (40 -> 2x8, k=14, stride 2): RC-structured input", () => Layer(() => new RcConv1d(40, 8, 14, stride: 2), 60, 2));
        yield return new("rc.batchnorm1d (40 channels, batch statistics): bn(rc(x)) = rc(bn(x))", () => Layer(() => new RcBatchNorm1d(40), 50, 3));
        yield return new("rc.maxpool1d (width 20, stride 20, length 180): pool(rc(x)) = rc(pool(x))", () => Layer(() => new RcMaxPool1d(20, 20, 180), 180, 4));
        yield return new("rc.weighted_sum (40 x 9): ws(rc(x)) = reversed ws(x)", () => Layer(() => new RcWeightedSum(40, 9), 9, 5));
        yield return new("rc.dense (40 -> 3): dense(reversed y) = dense(y)", () => Layer(() => new RcDense(40, 3), 1, 6));
        yield return new("rc.model (simulated-data RC-20, eval): max |p(x) - p(rc(x))| over 64 sequences", () =>
            ModelGap(DnaModelSpec.Simulated("rc", 20, new[] { "GATA", "ELF1", "RXRA" }), 7), 1e-6);
        yield return new("rc.model (ChIP-seq RC-8, widths 15/14/14, length 200, eval): max |p(x) - p(rc(x))|", () =>
            ModelGap(DnaModelSpec.ChipSeq("rc", 8, "bound", length: 200), 8), 1e-6);
        yield return new("rc.parameters (section 3.4.1): |standard-20 - 2283| + |RC-20 - 1983|", () =>
        {
            using var standard = new DnaConvNet(DnaModelSpec.Simulated("standard", 20, new[] { "a", "b", "c" }));
            using var rc = new DnaConvNet(DnaModelSpec.Simulated("rc", 20, new[] { "a", "b", "c" }));
            return Math.Abs(standard.FreeParameterCount - 2283) + Math.Abs(rc.FreeParameterCount - 1983);
        }, 0);
    }

    private static double Layer(Func<IEquivariantModule> make, long size, ulong seed)
    {
        manual_seed((long)seed);
        var layer = make();
        try { return layer.MeasureEquivariance(size, new Generator(seed)); }
        finally { (layer as IDisposable)?.Dispose(); }
    }

    /// <summary>Absolute max gap between predicted probabilities on random one-hot sequences and their reverse complements.</summary>
    public static double ModelGap(DnaModelSpec spec, ulong seed)
    {
        manual_seed((long)seed);
        using var model = new DnaConvNet(spec);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters()) if (name.Contains("norm")) p.normal_();
        model.eval();
        var gen = new Generator(seed);
        var x = nn.functional.one_hot(randint(0, 4, new long[] { 64, spec.SequenceLength }, generator: gen), 4).permute(0, 2, 1).to(ScalarType.Float32);
        using var _ = no_grad();
        return (sigmoid(model.forward(x)) - sigmoid(model.forward(ReverseComplementTies.Apply(x)))).abs().max().item<float>();
    }
}
