using EquiSharp.Layers.ReverseComplement;
using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Dna.Models;

/// <summary>Whole-model reverse-complement checks of the DNA application (the layers' own checks live with the family).</summary>
[CheckFamily(Order = 31)]
public static class DnaModelChecks
{
    public static IEnumerable<EquivarianceCheck> All()
    {
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
