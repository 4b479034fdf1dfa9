using EquiSharp.Applications.Images.Formats;
using EquiSharp.Applications.Images.Gan;
using EquiSharp.Cli.Commands;
using EquiSharp.Tests.Cli;
using SkiaSharp;

namespace EquiSharp.Tests.Applications.Images;

/// <summary>
/// The GAN's resume test compares two runs' losses digit for digit, so it runs alone: tests running in parallel draw
/// from the same global torch RNG (and it captures the console).
/// </summary>
[CollectionDefinition("images-serial", DisableParallelization = true)]
public sealed class ImagesSerialCollection { }

[Collection("images-serial")]
public sealed class GanTests
{
    private static string BuildData(TempDir dir)
    {
        var (img, lab) = GeneratedMnist.Write(dir, 40);
        var (images, labels) = MnistIdx.ReadPair(img, lab);
        string path = Path.Combine(dir.Path, "rm.bin");
        RotatedMnist.Build(images, labels, seed: 2, train: 20, dev: 10, test: 10).Save(path);
        return path;
    }

    private static (int Code, string Out, string Err) Gan(params string[] args) =>
        InProcessCli.Run(new MnistCommand(), new[] { "mnist", "gan" }.Concat(args).Concat(new[] { "--threads", "0" }).ToArray());

    /// <summary>
    /// Two epochs in one go and the same two epochs stopped mid-epoch (--max-steps) and resumed give the same losses
    /// to the last printed digit: both networks, both optimizers and the RNG come back from the checkpoint.
    /// </summary>
    [Fact]
    public void ResumeMidEpochContinuesExactlyAndWritesSamplesAndCurves()
    {
        using var dir = new TempDir();
        string data = BuildData(dir), straight = Path.Combine(dir.Path, "straight"), resumed = Path.Combine(dir.Path, "resumed");
        var (code, outText, err) = Gan("--data", data, "--discriminator", "p4cnn", "--epochs", "2", "--batch", "8", "--out", straight);
        Assert.True(code == 0, err);
        Assert.Contains("discriminator P4CNN(p4, width 10,", outText);
        Assert.Contains("finished: 6 steps, 2 epochs", outText);   // 20 images, batch 8: 3 steps per epoch

        (code, _, err) = Gan("--data", data, "--discriminator", "p4cnn", "--epochs", "2", "--batch", "8", "--out", resumed, "--max-steps", "4");
        Assert.True(code == 0, err);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(resumed, GanRun.LossesName)).Length);   // header + epoch 1
        (code, outText, err) = Gan("--resume", resumed, "--epochs", "2");
        Assert.True(code == 0, err);
        Assert.Contains("resumed from", outText);

        string[] Losses(string run) => File.ReadAllLines(Path.Combine(run, GanRun.LossesName)).Select(l => string.Join(',', l.Split(',')[..^1])).ToArray();
        var expected = Losses(straight);
        Assert.Equal(3, expected.Length);
        Assert.StartsWith("epoch,step,d_loss,g_loss,d_real,d_fake", expected[0]);
        Assert.Equal(expected, Losses(resumed));
        foreach (var file in new[] { "samples-epoch01.png", "samples-epoch02.png", "losses.png" })
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(straight, file))[..4]);

        (code, _, err) = Gan("--data", data, "--discriminator", "p4cnn", "--out", straight);
        Assert.Equal(1, code);
        Assert.Contains("already holds a GAN run", err);
        (code, _, err) = Gan("--data", data, "--discriminator", "p5cnn", "--out", Path.Combine(dir.Path, "bad"));
        Assert.Equal(1, code);
        Assert.Contains("error: Unknown model 'p5cnn'", err);
    }
}

public sealed class SampleGridTests
{
    [Fact]
    public void SampleGridPlacesEveryPixel()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "grid.png");
        var pixels = new float[3 * 4 * 4];
        pixels[2 * 16 + 1 * 4 + 3] = 1f;   // image 2, row 1, column 3: white
        pixels[0] = 0.5f;                   // image 0, row 0, column 0: mid grey
        SampleGrid.WritePng(path, pixels, 4, columns: 2, scale: 2);
        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal((2 * 6 * 2, 2 * 6 * 2), (bitmap.Width, bitmap.Height));   // 2 columns, 2 rows of 4+2-pixel cells, scale 2
        byte At(int x, int y) => bitmap.GetPixel(x, y).Red;
        // image 2 sits in row 1, column 0: its (1, 3) pixel starts at ((6 + 1 + 1)·2, (0 + 1 + 3)·2)
        Assert.Equal(255, At((0 + 1 + 3) * 2 + 1, (6 + 1 + 1) * 2 + 1));
        Assert.Equal(128, At(2, 2));
        Assert.Equal(0, At(4, 2));
        Assert.Equal(96, At(0, 0));   // frame
    }
}
