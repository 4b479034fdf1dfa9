using EquiSharp.Applications.Rna;
using EquiSharp.Applications.Rna.Decoding;
using EquiSharp.Applications.Rna.Evaluation;
using EquiSharp.Applications.Rna.Inference;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Applications.Rna.Synthetic;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Rna;

/// <summary>The model that ships in EquiSharp.dll (models/rna-default): it loads, is symmetric and has learnt something.</summary>
[Collection("rna-serial")]
public sealed class BundledRnaModelTests
{
    /// <summary>
    /// Mean F1 the bundled model must reach on generated hairpins (the all-unpaired baseline scores 0 there): far
    /// above what an untrained model decodes at threshold 0.5 (nothing), below what a trained one reaches.
    /// </summary>
    private const double HairpinF1Floor = 0.2;

    [Fact]
    public void LoadsAsTheSymmetricModelItsSpecDescribes()
    {
        Assert.True(BundledRnaModel.IsAvailable);
        var (model, spec, weights) = BundledRnaModel.Load(CPU);
        using (model)
        {
            Assert.Equal("scnn", spec.Model);
            Assert.True(model.Symmetric);
            Assert.False(model.training);
            Assert.True(spec.Parameters > 0);
            Assert.Equal(spec.Parameters, model.ParameterCount);
            Assert.Matches($@"^bundled model {BundledRnaModel.Name} \((epoch \d+, dev f1 \d\.\d{{4}} on \d+-nt windows|step \d+, before any dev evaluation)\)$", weights);
            // the weights are the trained ones, not a fresh initialisation of the same architecture
            using var fresh = spec.Build(CPU);
            var loaded = model.state_dict();
            Assert.Contains(fresh.state_dict(), kv => !kv.Value.allclose(loaded[kv.Key]));
        }
    }

    /// <summary>The embedded files are the repository's models/rna-default (the build embedded the current ones), and the temporary directory is gone after loading.</summary>
    [Fact]
    public void EmbedsTheRepositoryFilesAndLeavesNoTemporaryDirectory()
    {
        using var dir = new TempDir();
        BundledRnaModel.WriteTo(dir.Path);
        string source = Path.Combine(RepositoryRoot.Path, "models", BundledRnaModel.Name);
        foreach (var file in new[] { RnaModelSpec.FileName, Path.Combine("best", "model.bin"), Path.Combine("best", "state.json") })
            Assert.True(File.ReadAllBytes(Path.Combine(source, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir.Path, file))), $"{file} differs");
        var before = Directory.GetDirectories(Path.GetTempPath(), $"equisharp-{BundledRnaModel.Name}-*").Length;
        BundledRnaModel.Load(CPU).Model.Dispose();
        Assert.Equal(before, Directory.GetDirectories(Path.GetTempPath(), $"equisharp-{BundledRnaModel.Name}-*").Length);
    }

    /// <summary>The full (not mirrored) logit map of a random 97-nt sequence equals its transpose.</summary>
    [Fact]
    public void PairMapOfARandomSequenceIsSymmetric()
    {
        var (model, _, _) = BundledRnaModel.Load(CPU);
        using (model)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var rng = new Random(4);
            string seq = new string(Enumerable.Range(0, 97).Select(_ => "ACGU"[rng.Next(4)]).ToArray());
            var y = model.forward(RnaFeatures.OneHot(seq));
            double deviation = (y - y.transpose(1, 2)).abs().max().item<float>() / Math.Max(1e-12, y.abs().max().item<float>());
            Assert.True(deviation <= 1e-5, $"relative asymmetry {deviation}");
        }
    }

    /// <summary>
    /// On generated hairpins (stems of 3–6 pairs around loops of 3–7) with the default decoder, the bundled model's
    /// mean F1 is clearly above the all-unpaired baseline's 0. Fails with untrained weights, by design.
    /// </summary>
    [Fact]
    public void BeatsTheAllUnpairedBaselineOnGeneratedHairpins()
    {
        var records = SyntheticRna.Generate(8, 40, 80, seed: 11);
        var (model, _, _) = BundledRnaModel.Load(CPU);
        using (model)
        {
            var predictions = RnaPredictor.Evaluate(model, records, new GreedyDecoderOptions(), CPU);
            var overall = RnaScoreTable.Rows(predictions).First(r => r.Bin == "all" && r.Pairs == "all");
            Assert.Equal(0.0, overall.Unpaired!.F1);
            Assert.True(overall.Model!.F1 > HairpinF1Floor, $"mean F1 {overall.Model.F1:0.0000} on {records.Count} hairpins (needed > {HairpinF1Floor})");
        }
    }
}
