using System.Text.RegularExpressions;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Training;
using EquiSharp.Cli.Commands;
using EquiSharp.Tests.Applications.Protein;
using EquiSharp.Training;

namespace EquiSharp.Tests.Cli;

[Collection("rna-serial")] // redirects Console
public class ProteinTrainCommandTests
{
    private const string MeanLine = @"^mean top_l5_long=(\d\.\d{4}|NaN) top_l2_long=(\d\.\d{4}|NaN) ppv=\d\.\d{4} sen=\d\.\d{4} acc=\d\.\d{4} n=\d+$";

    private static string LastLine(string text) => text.TrimEnd().Split('\n')[^1];

    [Fact]
    public void Train_resume_eval_and_the_dca_baseline_on_small_generated_features()
    {
        using var dir = new TempDir();
        string features = SyntheticProteins.WriteDirectory(Path.Combine(dir.Path, "features"), 6);
        string model = Path.Combine(dir.Path, "scnn");
        string[] common = ["protein", "train", "--features", features, "--model", "scnn", "--out", model, "--folds", "3", "--fold", "1",
            "--crop", "24", "--batches-per-epoch", "1"];
        var (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), [.. common, "--max-steps", "1"]);
        Assert.True(code == 0, err);
        Assert.Matches(@"^trained steps=1 epochs=1 ", LastLine(stdout));
        Assert.Matches(MeanLine, stdout.TrimEnd().Split('\n')[^2]);
        Assert.Equal(1, Checkpoint.ReadState(model).Step);

        // the split: folds by Pfam order (fold 1 of 3 = the 2nd and 5th protein), the potential from the training proteins only
        var spec = ContactRunSpec.Load(model);
        Assert.Equal(["PF00002_1ABC_A", "PF00005_1ABC_A"], spec.Split.Test);
        Assert.Empty(spec.Split.Dev.Intersect(spec.Split.Test));
        var read = (string n) => ProteinFeatureFile.Read(Path.Combine(features, n + ProteinFeatureFile.Extension));
        Assert.Equal(ResiduePairContactPotential.Estimate(spec.Split.Train.Select(read)).Table, spec.Potential);
        Assert.NotEqual(ResiduePairContactPotential.Estimate(spec.Split.Train.Concat(spec.Split.Test).Select(read)).Table, spec.Potential);

        // a second run into the same directory is refused; --resume continues from the checkpoint
        (code, _, err) = InProcessCli.Run(new ProteinCommand(), [.. common, "--max-steps", "2"]);
        Assert.Equal(1, code);
        Assert.Contains("--resume", err);
        (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "train", "--resume", model, "--max-steps", "2");
        Assert.True(code == 0, err);
        Assert.Matches(@"^trained steps=2 epochs=2 ", LastLine(stdout));
        Assert.Equal(2, Checkpoint.ReadState(model).Step);

        (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "eval", "--model", model);
        Assert.True(code == 0, err);
        Assert.Matches(MeanLine, LastLine(stdout));
        Assert.EndsWith("n=2", LastLine(stdout));
        Assert.Contains("PF00005_1ABC_A\t", stdout);
        Assert.DoesNotContain("PF00001_1ABC_A\t", stdout);

        (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "eval", "--model", "dca", "--features", features, "--folds", "3", "--fold", "1");
        Assert.True(code == 0, err);
        Assert.Matches(MeanLine, LastLine(stdout));
        Assert.EndsWith("n=2", LastLine(stdout));
        string dcaTable = Path.Combine(dir.Path, "dca.txt");
        File.WriteAllText(dcaTable, stdout);
        (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "compare", "--a", model, "--b", dcaTable, "--metric", "top_l2_medium");
        Assert.Equal(1, code);
        Assert.Contains("no column 'top_l2_medium'", err);
        (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "compare", "--a", model, "--b", dcaTable, "--metric", "acc");
        Assert.True(code == 0, err);
        Assert.Matches(@"^paired metric=acc n=2 wins=\d losses=\d ties=\d mean_diff=-?\d\.\d{4}$", LastLine(stdout));
        (code, _, err) = InProcessCli.Run(new ProteinCommand(), "protein", "eval", "--model", "dca");
        Assert.Equal(1, code);
        Assert.Contains("needs --features", err);
    }

    /// <summary>The mean line's numbers: invariant culture, 4 decimals, fractions, NaN when no protein has such pairs.</summary>
    [Fact]
    public void The_eval_mean_line_has_the_parsed_format()
    {
        var s = new EquiSharp.Applications.Protein.Evaluation.ContactSummary(3, 0.5, 0.25, 0.1, 1.0 / 3, 2.0 / 3, 0.5);
        Assert.Equal("mean top_l5_long=0.5000 top_l2_long=0.2500 ppv=0.3333 sen=0.6667 acc=0.5000 n=3", s.MeanLine());
        Assert.Matches(MeanLine, s.MeanLine());
        var none = new EquiSharp.Applications.Protein.Evaluation.ContactSummary(1, double.NaN, double.NaN, double.NaN, 0, 0, 0);
        Assert.Matches(MeanLine, none.MeanLine());
    }

    [Fact]
    public void Predict_writes_an_rr_list_and_a_png_with_the_true_map_for_a_structure()
    {
        using var dir = new TempDir();
        string features = SyntheticProteins.WriteDirectory(Path.Combine(dir.Path, "features"), 4);
        string model = Path.Combine(dir.Path, "cnn");
        var (code, _, err) = InProcessCli.Run(new ProteinCommand(), "protein", "train", "--features", features, "--model", "cnn", "--out", model,
            "--folds", "2", "--crop", "16", "--batches-per-epoch", "1", "--max-steps", "1");
        Assert.True(code == 0, err);
        ProteinCommandTests.WriteProtein(dir, "PF00009");
        string output = Path.Combine(dir.Path, "pred");
        (code, var stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "predict", "--model", model,
            "--aln", Path.Combine(dir.Path, "aln", "PF00009.align.80"), "--pdb", Path.Combine(dir.Path, "pdb", "PF00009_1ABC_A.pdb.gz"), "--out", output);
        Assert.True(code == 0, err);
        Assert.Matches(@"predicted PF00009_1ABC_A L=20 mapped=20 .* top_l5_long=NaN .* acc=\d\.\d{4}", stdout);
        var rr = File.ReadAllLines(Path.Combine(output, "PF00009_1ABC_A.rr"));
        Assert.Equal(["PFRMAT RR", "TARGET PF00009_1ABC_A", "MODEL 1", "ACDEFGHIKLMNPQRSTVWY"], rr[..4]);
        Assert.True(new FileInfo(Path.Combine(output, "PF00009_1ABC_A.png")).Length > 1000);

        (code, stdout, err) = InProcessCli.Run(new ProteinCommand(), "protein", "predict", "--model", model,
            "--aln", Path.Combine(dir.Path, "aln", "PF00009.align.80"), "--out", output);
        Assert.True(code == 0, err);
        Assert.Matches(@"predicted PF00009\.align L=20 mapped=20 ", stdout);
    }
}
