using EquiSharp.Applications.Recommendation.Models;
using EquiSharp.Applications.Recommendation.Training;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Applications.Recommendation;

public class CosRecModelTests
{
    [Fact]
    public void ParameterCountsMatchTheSCNNPaperAtMovieLens1MSizes()
    {
        using var cosRec = new CosRec(CosRecConfig.MovieLens1M);
        using var sCosRec = new SCosRec(CosRecConfig.MovieLens1M);
        Assert.Equal(1_983_118, cosRec.FreeParameterCount);
        Assert.Equal(1_730_958, sCosRec.FreeParameterCount);
    }

    private static readonly CosRecConfig Small = new() { Users = 7, Items = 11 };

    private static Tensor Sequences(int batch, int items, int seed)
    {
        var g = new Generator((ulong)seed);
        var s = randint(0, items, new long[] { batch, 5 }, generator: g);
        s[0, 0] = tensor(-1L); s[0, 1] = tensor(-1L); // a padded input
        return s;
    }

    private static double MaxTransposeDeviation(Tensor maps) =>
        maps.sub(maps.transpose(2, 3)).abs().max().item<float>() / Math.Max(1e-12, maps.abs().max().item<float>());

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SCosRecTrunkOutputIsSymmetricAndCosRecsIsNot(bool training)
    {
        manual_seed(1);
        using var model = new SCosRec(Small);
        using var baseline = new CosRec(Small);
        model.train(training); baseline.train(training);
        var seq = Sequences(6, Small.Items, 2);
        using (no_grad())
        {
            if (!training) { model.train(); model.PairMaps(seq); model.eval(); } // non-trivial running statistics
            var maps = model.PairMaps(seq);
            Assert.Equal(new long[] { 6, 256, 5, 5 }, maps.shape);
            Assert.True(maps.abs().max().item<float>() > 0);
            Assert.True(MaxTransposeDeviation(maps) <= 1e-5, $"SCosRec max relative deviation {MaxTransposeDeviation(maps)}");
            Assert.True(MaxTransposeDeviation(baseline.PairMaps(seq)) > 1e-2);   // the check can fail
        }
    }

    [Fact]
    public void SeparableGeneratingPathEqualsTheDenseSelfCartesianPath()
    {
        manual_seed(3);
        using var model = new SCosRec(Small);
        Assert.True(model.SeparableGenerating);
        var seq = Sequences(5, Small.Items, 4);
        var users = tensor(new long[] { 0, 1, 2, 3, 6 });
        model.eval();
        using (no_grad())
        {
            var separable = model.PairMaps(seq);
            var scores = model.ScoreAll(users, seq);
            model.SeparableGenerating = false;
            var dense = model.PairMaps(seq);
            double scale = dense.abs().max().item<float>();
            Assert.True(separable.sub(dense).abs().max().item<float>() <= 1e-5 * scale);
            Assert.True(scores.sub(model.ScoreAll(users, seq)).abs().max().item<float>() <= 1e-5 * scores.abs().max().item<float>());
        }
        // and in training mode (batch statistics), gradients included
        model.train();
        var grads = new List<Dictionary<string, Tensor>>();
        foreach (bool separable in new[] { true, false })
        {
            model.SeparableGenerating = separable;
            model.zero_grad();
            model.PairMaps(seq).pow(KeptScalar.Of(2)).mean().backward();
            grads.Add(model.named_parameters().Where(p => p.parameter.grad is not null).ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
        }
        Assert.Contains("encoder.conv.weight.theta", grads[0].Keys);
        double largest = grads[1].Values.Max(g => g.abs().max().item<float>());
        foreach (var (name, dense) in grads[1])
        {
            double dev = grads[0][name].sub(dense).abs().max().item<float>(), scale = dense.abs().max().item<float>();
            // a conv bias followed by batch norm has zero gradient in exact arithmetic: both paths leave rounding noise only
            bool biasBeforeNorm = name.EndsWith("conv.bias") || name.Contains("convs.") && name.EndsWith(".bias");
            Assert.True(biasBeforeNorm ? Math.Max(scale, dev) <= 1e-5 * largest : dev <= 1e-5 * scale, $"{name}: deviation {dev}, scale {scale}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ScoresOfChosenItemsEqualTheFullScoreRows(bool symmetric)
    {
        manual_seed(5);
        using PairwiseSequenceRecommender model = symmetric ? new SCosRec(Small) : new CosRec(Small);
        model.eval();
        var seq = Sequences(4, Small.Items, 6);
        var users = tensor(new long[] { 0, 3, 5, 6 });
        var items = tensor(new long[] { 0, 10, 4, 1, 2, 3, 9, 9, 5, 7, 8, 6 }).view(4, 3);
        using (no_grad())
        {
            var chosen = model.forward(users, seq, items);
            var all = model.ScoreAll(users, seq);
            Assert.Equal(new long[] { 4, 11 }, all.shape);
            Assert.True(chosen.sub(all.gather(1, items)).abs().max().item<float>() <= 1e-5);
        }
    }

    [Fact]
    public void PaddingEmbedsAsZeroVectors()
    {
        manual_seed(7);
        using var model = new CosRec(Small);
        model.eval();
        var padded = tensor(new long[] { -1, -1, 3, 4, 5 }).view(1, 5);
        using (no_grad())
        {
            var before = model.PairMaps(padded);
            foreach (var (name, p) in model.named_parameters())
                if (name.StartsWith("itemEmbeddings")) p.index_fill_(0, tensor(new long[] { 0, 1, 2, 6 }), KeptScalar.Of(100f)); // rows the input does not use
            Assert.True(before.sub(model.PairMaps(padded)).abs().max().item<float>() == 0);
        }
    }

    [Fact]
    public void LossIsCosRecsBinaryCrossEntropy()
    {
        var pos = tensor(new float[] { 2f, -1f, 0.5f, 3f }).view(2, 2);
        var neg = tensor(new float[] { -2f, 1f, 0f, 0.25f, -0.5f, 4f }).view(2, 3);
        double expected = -pos.sigmoid().log().mean().item<float>() - (neg.sigmoid().neg().add(KeptScalar.Of(1), KeptScalar.One)).log().mean().item<float>();
        Assert.Equal(expected, NegativeSamplingLoss.BinaryCrossEntropy(pos, neg).item<float>(), 5);
    }
}
