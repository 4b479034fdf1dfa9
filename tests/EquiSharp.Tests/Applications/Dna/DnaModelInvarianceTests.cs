using EquiSharp.Applications.Dna.Models;
using EquiSharp.Layers.ReverseComplement;
using EquiSharp.Tests.Layers.ReverseComplement;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Training;

namespace EquiSharp.Tests.Applications.Dna;

public sealed class DnaModelInvarianceTests
{
    private static double MaxProbabilityGap(DnaConvNet model, Tensor x)
    {
        using var _ = no_grad();
        var p = sigmoid(model.forward(x));
        var q = sigmoid(model.forward(ReverseComplementTies.Apply(x)));
        return (p - q).abs().max().item<float>();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RcModelGivesIdenticalProbabilitiesOnASequenceAndItsReverseComplement(bool chipSeq)
    {
        manual_seed(21);
        var spec = chipSeq ? DnaModelSpec.ChipSeq("rc", 4, "bound", length: 100) : DnaModelSpec.Simulated("rc", 20, new[] { "a", "b", "c" });
        using var model = new DnaConvNet(spec);
        // batch norm with non-trivial statistics and affine parameters, so every layer matters
        using (no_grad())
            foreach (var (name, p) in model.named_parameters()) if (name.Contains("norm")) p.normal_();
        var x = ReverseComplementLayerTests.OneHot(16, spec.SequenceLength, new Generator(22));
        model.train();
        Assert.True(MaxProbabilityGap(model, x) <= 1e-6);
        model.eval();
        double gap = MaxProbabilityGap(model, x);
        Assert.True(gap <= 1e-6, $"gap {gap}");
        // the probabilities are not constant (the check is not vacuous)
        using (no_grad()) Assert.True(sigmoid(model.forward(x)).std().item<float>() > 1e-4);
    }

    [Fact]
    public void RcModelStaysInvariantAfterTrainingWhileAStandardModelDoesNot()
    {
        manual_seed(23);
        var gen = new Generator(24);
        var tasks = new[] { "a", "b", "c" };
        var x = ReverseComplementLayerTests.OneHot(64, 200, gen);
        var y = randint(0, 2, new long[] { 64, 3 }, generator: gen).to(ScalarType.Float32);
        foreach (var kind in new[] { "rc", "standard" })
        {
            using var model = new DnaConvNet(DnaModelSpec.Simulated(kind, 8, tasks));
            var adam = Optimizers.Adam(model.parameters(), 1e-2);
            for (int step = 0; step < 5; step++)
            {
                model.train();
                adam.zero_grad();
                nn.functional.binary_cross_entropy_with_logits(model.forward(x), y).backward();
                adam.step();
            }
            model.eval();
            double gap = MaxProbabilityGap(model, x);
            if (kind == "rc") Assert.True(gap <= 1e-6, $"RC gap {gap}");
            else Assert.True(gap > 1e-3, $"standard gap {gap}");
        }
    }
}
