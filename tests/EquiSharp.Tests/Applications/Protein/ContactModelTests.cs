using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Models;
using EquiSharp.Applications.Protein.Training;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Protein;

[Collection("rna-serial")] // seeds and draws from the global torch RNG: not in parallel with tests that do too
public class ContactModelTests
{
    /// <summary>A padded batch of three synthetic proteins (lengths 19, 26, 31) with the training potential.</summary>
    private static ContactBatch Batch()
    {
        var proteins = new[] { SyntheticProteins.Make("a", 19, 1), SyntheticProteins.Make("b", 26, 2), SyntheticProteins.Make("c", 31, 3) };
        var potential = ResiduePairContactPotential.Estimate(proteins);
        var examples = proteins.Select(p => ContactExample.From(p, potential)).ToList();
        return ContactBatch.Of(examples, examples.Select((e, k) => new ContactCrop(k, 0, e.Length)).ToList(), CPU);
    }

    [Fact]
    public void ScnnLogitsAreSymmetricAndCnnLogitsAreNot()
    {
        using var scope = NewDisposeScope();
        var t = Batch();
        manual_seed(3);
        using var scnn = new ContactModel(symmetric: true);
        using var cnn = new ContactModel(symmetric: false);
        using var _ = no_grad();
        var ys = scnn.Logits(t.Features, t.PairFeatures, t.Lengths);
        var yc = cnn.Logits(t.Features, t.PairFeatures, t.Lengths);
        Assert.True(ys.abs().max().item<float>() > 0);
        Assert.True(Deviation.Relative(ys, ys.transpose(1, 2)) <= 1e-5, "SCNN logits must be symmetric");
        Assert.True(Deviation.Relative(yc, yc.transpose(1, 2)) > 1e-3, "CNN logits should not be symmetric");
    }

    [Fact]
    public void BothModelsHaveTheRnaWidthsAndTheScnnHasFewerParameters()
    {
        using var scnn = new ContactModel(symmetric: true);
        using var cnn = new ContactModel(symmetric: false);
        Assert.Equal(scnn.Spec with { Symmetric = false }, cnn.Spec with { Stages = scnn.Spec.Stages });
        Assert.Equal([13L, 9, 5], scnn.Spec.Stages[0].Select(b => b.Kernel));
        Assert.Equal(45, scnn.Spec.InputFeatures);
        Assert.Equal(3, scnn.Spec.PairFeatures);
        Assert.Equal(274_946, scnn.ParameterCount);   // recorded in docs/results/protein.md
        Assert.Equal(CnnParameters, cnn.ParameterCount);
    }

    /// <summary>Free parameters of ContactCnn (recorded in docs/results/protein.md).</summary>
    private const long CnnParameters = 434_715;

    /// <summary>The contact SCNN on packed symmetric maps gives the dense logits (eval mode) and training loss (train mode).</summary>
    [Fact]
    public void PackedMapsGiveTheDenseLogitsAndLoss()
    {
        using var scope = NewDisposeScope();
        var t = Batch();
        manual_seed(5);
        using var dense = new ContactModel(symmetric: true);
        manual_seed(5);
        using var packed = new ContactModel(symmetric: true) { PackedMaps = true };
        packed.load_state_dict(dense.state_dict()); // the same weights whatever else drew from the global RNG
        var ld = PairLoss.ResidueMaskedUpperTriangleWeightedBce(dense.Logits(t.Features, t.PairFeatures, t.Lengths), t.Labels, t.Mask, 5);
        var lp = PairLoss.ResidueMaskedUpperTriangleWeightedBce(packed.Logits(t.Features, t.PairFeatures, t.Lengths), t.Labels, t.Mask, 5);
        Assert.True(Math.Abs(ld.item<float>() - lp.item<float>()) <= 1e-4 * Math.Abs(ld.item<float>()), $"loss {ld.item<float>()} vs {lp.item<float>()}");
        dense.eval(); packed.eval();
        using var _ = no_grad();
        var yd = dense.Logits(t.Features, t.PairFeatures, t.Lengths);
        Assert.True(yd.abs().max().item<float>() > 0);
        Assert.True(Deviation.Relative(packed.Logits(t.Features, t.PairFeatures, t.Lengths), yd) <= 1e-4);
    }

    /// <summary>Full-length tiled inference (small tiles, so halos and mirroring are exercised) gives the plain forward.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TiledLogitsGiveThePlainForward(bool symmetric)
    {
        using var scope = NewDisposeScope();
        var p = SyntheticProteins.Make("t", 33, 9);
        var t = ContactExample.From(p, ResiduePairContactPotential.Estimate([p])).Whole(CPU);
        manual_seed(2);
        using var model = new ContactModel(symmetric);
        model.eval();
        using var _ = no_grad();
        var plain = model.Logits(t.Features, t.PairFeatures, null)[0];
        var tiled = model.TiledLogits(t.Features, t.PairFeatures, new EquiSharp.Layers.Pairwise.Network.TiledInferenceOptions { TileSize = 8 });
        Assert.True(Deviation.Relative(tiled, plain) <= 1e-5);
    }

    /// <summary>
    /// Fig. 2's output maps: the SCNN's as computed is symmetric, the CNN's is not (its lower triangle is not trained);
    /// the asymmetry measure is the largest |P[i,j] − P[j,i]|. The panels are drawn to a PNG.
    /// </summary>
    [Fact]
    public void OutputMapsAreSymmetricForTheScnnOnlyAndDrawSideBySide()
    {
        Assert.Equal(0.5, EquiSharp.Applications.Protein.Evaluation.ContactPrediction.MaxAsymmetry([0, 0.7f, 0.2f, 0], 2), 6);
        var p = SyntheticProteins.Make("m", 21, 4);
        var example = ContactExample.From(p, ResiduePairContactPotential.Estimate([p]));
        var maps = new List<(string, float[])>();
        foreach (bool symmetric in new[] { true, false })
        {
            manual_seed(5);
            using var model = new ContactModel(symmetric);
            model.eval();
            var map = EquiSharp.Applications.Protein.Evaluation.ContactPrediction.OutputMap(model, example, CPU);
            double asym = EquiSharp.Applications.Protein.Evaluation.ContactPrediction.MaxAsymmetry(map, 21);
            if (symmetric) Assert.True(asym <= 1e-6, $"SCNN asymmetry {asym}");
            else Assert.True(asym > 1e-3, $"CNN asymmetry {asym}");
            maps.Add((symmetric ? "SCNN" : "CNN", map));
        }
        using var dir = new TempDir();
        string png = Path.Combine(dir.Path, "maps.png");
        EquiSharp.Training.Plots.HeatmapPanels(png, maps, 21, "maps");
        Assert.True(new FileInfo(png).Length > 1000);
        Assert.Throws<ArgumentException>(() => EquiSharp.Training.Plots.HeatmapPanels(png, [("short", new float[5])], 21, "x"));
    }
}
