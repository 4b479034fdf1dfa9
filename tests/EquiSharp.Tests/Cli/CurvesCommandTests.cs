using EquiSharp.Cli.Commands;
using EquiSharp.Training;
using TorchSharp;

namespace EquiSharp.Tests.Cli;

/// <summary><c>equisharp curves</c> on run directories written by the shared trainer's checkpointing.</summary>
[Collection("rna-serial")] // redirects Console
public sealed class CurvesCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => InProcessCli.Run(new CurvesCommand(), args);

    private static string WriteRun(string parent, string name, params double[] devAcc)
    {
        string dir = Path.Combine(parent, name);
        var history = devAcc.Select((a, i) => new EpochRecord(i + 1, 10L * (i + 1), 1.0 / (i + 1),
            new Dictionary<string, double> { ["acc"] = a, ["f1"] = a / 2 }, a, 3.0 * (i + 1))).ToList();
        int best = devAcc.Select((a, i) => (a, i)).MaxBy(t => t.a).i;
        var state = new TrainingState { Epoch = devAcc.Length, Step = 10L * devAcc.Length, History = history, BestScore = devAcc[best], BestEpoch = best + 1, TrainSeconds = 42 };
        Checkpoint.Save(dir, torch.nn.Linear(2, 1), null, state);
        return dir;
    }

    [Fact]
    public void ComparesRunsInATableAndOnePng()
    {
        using var tmp = new TempDir();
        string a = WriteRun(tmp.Path, "scnn-run", 0.1, 0.4, 0.3);
        string b = WriteRun(tmp.Path, "cnn-run", 0.2, 0.25);
        string png = Path.Combine(tmp.Path, "cmp.png");
        var r = Run("curves", a, b, "--out", png, "--metric", "f1");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("scnn-run", r.Out);
        Assert.Contains("cnn-run", r.Out);
        Assert.Contains("0.4000", r.Out);   // best dev score of the first run (epoch 2)
        Assert.Contains("0.1500", r.Out);   // its last f1 (0.3 / 2)
        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G');

        Assert.Equal(new[] { 1.0, 0.5 }, Checkpoint.ReadState(a).History.Take(2).Select(h => Plots.MetricOf(h, Plots.TrainLossMetric)));
    }

    [Fact]
    public void BadRunsMetricsAndLabelsAreNamedInTheError()
    {
        using var tmp = new TempDir();
        string a = WriteRun(tmp.Path, "run", 0.1);
        var r = Run("curves", a, "--metric", "auroc", "--out", Path.Combine(tmp.Path, "x.png"));
        Assert.Equal(1, r.Code);
        Assert.Contains("no dev metric 'auroc'", r.Err);
        Assert.Contains("acc, f1, train-loss", r.Err);

        r = Run("curves", a, Path.Combine(tmp.Path, "missing"));
        Assert.Equal(1, r.Code);
        Assert.Contains("missing: no checkpoint", r.Err);

        r = Run("curves", a, "--label", "x", "y");
        Assert.Equal(1, r.Code);
        Assert.Contains("2 labels for 1 runs", r.Err);

        File.WriteAllText(Path.Combine(a, Checkpoint.LatestName, "state.json"), "{ \"Epoch\": \n [");
        r = Run("curves", a);
        Assert.Equal(1, r.Code);
        Assert.Contains("state.json: truncated (training state unreadable at line 2", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
