using EquiSharp.Cli.Commands;
using EquiSharp.Tests.Cli;

namespace EquiSharp.Tests.Applications.Images;

[Collection("Console")]
public sealed class MnistCliTests
{
    /// <summary>Every call passes --threads 0: torch's thread count is process-wide and other tests' recorded values depend on it.</summary>
    [Fact]
    public void BuildTrainResumeAndEvalEndToEnd()
    {
        using var dir = new TempDir();
        var (img, lab) = GeneratedMnist.Write(dir, 60, gzip: true);
        string data = Path.Combine(dir.Path, "rm.bin"), run = Path.Combine(dir.Path, "run");
        var (code, outText, err) = InProcessCli.Run(new MnistCommand(), "mnist", "build", "--images", img, "--labels", lab, "--out", data,
            "--train", "30", "--dev", "10", "--test", "20", "--seed", "3");
        Assert.True(code == 0, err);
        Assert.Contains("train 30, dev 10, test 20, test-upright 20", outText);

        (code, outText, err) = InProcessCli.Run(new MnistCommand(), "mnist", "train", "--data", data, "--model", "p4cnn", "--epochs", "2",
            "--out", run, "--batch", "10", "--max-steps", "3", "--threads", "0");
        Assert.True(code == 0, err);
        Assert.Contains("24,620 free parameters", outText);
        Assert.True(File.Exists(Path.Combine(run, "curves.png")) && File.Exists(Path.Combine(run, "report.txt")));
        (code, outText, err) = InProcessCli.Run(new MnistCommand(), "mnist", "train", "--resume", run, "--epochs", "2", "--max-steps", "6", "--threads", "0");
        Assert.True(code == 0, err);
        Assert.Contains("finished: 6 steps, 2 epochs", outText);

        (code, outText, err) = InProcessCli.Run(new MnistCommand(), "mnist", "eval", "--model", run, "--data", data, "--rotate90", "--threads", "0");
        Assert.True(code == 0, err);
        var last = outText.TrimEnd().Split('\n')[^1];
        Assert.Matches(@"^accuracy=[01]\.\d{4} max_logit_dev=\d+\.\d{4}$", last);
        Assert.True(double.Parse(last.Split("max_logit_dev=")[1], System.Globalization.CultureInfo.InvariantCulture) <= 1e-4);
        (code, outText, _) = InProcessCli.Run(new MnistCommand(), "mnist", "eval", "--model", run, "--data", data, "--split", "upright", "--threads", "0");
        Assert.Equal(0, code);
        Assert.Matches(@"^accuracy=[01]\.\d{4}$", outText.TrimEnd().Split('\n')[^1]);
        Assert.Contains("true\\pred", outText);

        (code, _, err) = InProcessCli.Run(new MnistCommand(), "mnist", "train", "--data", data, "--model", "p5cnn", "--out", Path.Combine(dir.Path, "x"), "--threads", "0");
        Assert.Equal(1, code);
        Assert.Contains("error: Unknown model 'p5cnn'", err);
        (code, _, err) = InProcessCli.Run(new MnistCommand(), "mnist", "eval", "--model", run, "--data", img, "--threads", "0");
        Assert.Equal(1, code);
        Assert.Contains("not a rotated-MNIST file", err);
    }
}
