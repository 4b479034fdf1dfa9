using EquiSharp.Cli.Commands;
using EquiSharp.Tests.Cli;

namespace EquiSharp.Tests.Applications.Images;

[Collection("Console")]
public sealed class CifarCliTests
{
    [Fact]
    public void InfoPrintsComparableParameterCounts()
    {
        var (code, outText, err) = InProcessCli.Run(new CifarCommand(), "cifar", "info");
        Assert.True(code == 0, err);
        Assert.Contains("allcnn-z2    Z2        96/192    1,693,546     1,693,546", outText);
        Assert.Contains("allcnn-p4    p4         48/96    1,692,922     6,771,688", outText);
        Assert.Contains("allcnn-p4m   p4m        34/68    1,699,636    13,597,088", outText);
    }

    /// <summary>A smoke run of the shared image training run on generated CIFAR files (two steps, then the test report); --threads 0 keeps torch's global thread count.</summary>
    [Fact]
    public void TrainSmokeRunOnGeneratedFiles()
    {
        using var dir = new TempDir();
        string data = GeneratedCifar.Write(dir, batches: 1, perBatch: 20, test: 4), run = Path.Combine(dir.Path, "run");
        var (code, outText, err) = InProcessCli.Run(new CifarCommand(), "cifar", "train", "--data", data, "--model", "allcnn-p4", "--epochs", "1",
            "--batch", "4", "--max-steps", "2", "--out", run, "--threads", "0");
        Assert.True(code == 0, err);
        Assert.Contains("ALLCNN-P4 (p4, width 48): 1,692,922 free parameters (6,771,688 as a plain CNN)", outText);
        Assert.Contains("train 18, dev 2", outText);
        Assert.Contains("finished: 2 steps", outText);
        Assert.Matches(@"test: accuracy=[01]\.\d{4} \(\d/4\)", File.ReadAllText(Path.Combine(run, "report.txt")));
        Assert.Contains("\"Dataset\": \"cifar10\"", File.ReadAllText(Path.Combine(run, "train.json")));

        (code, _, err) = InProcessCli.Run(new CifarCommand(), "cifar", "train", "--data", data, "--model", "z2cnn", "--out", Path.Combine(dir.Path, "x"), "--threads", "0");
        Assert.Equal(1, code);
        Assert.Contains("error: z2cnn takes 1-channel images; " + data + " holds CIFAR-10 with 3", err);
    }
}
