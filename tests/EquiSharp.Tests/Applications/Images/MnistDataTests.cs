using System.IO.Compression;
using EquiSharp.Applications.Images.Formats;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Images;

/// <summary>Small generated IDX files: digits as random blobs, written plain or gzip.</summary>
internal static class GeneratedMnist
{
    public static (string Images, string Labels) Write(TempDir dir, int count, int side = 28, bool gzip = false, int seed = 1)
    {
        var rng = new Random(seed);
        var pixels = new byte[count * side * side];
        for (int n = 0; n < count; n++)
        {
            // an off-centre bar whose position depends on the label, so the classes differ and are not rotation symmetric
            int label = n % 10;
            for (int i = 6; i < 22; i++)
                for (int j = 8 + label % 5; j < 12 + label % 5 + label / 5 * 3; j++)
                    pixels[n * side * side + i * side + j] = (byte)rng.Next(128, 256);
        }
        var labels = Enumerable.Range(0, count).Select(n => (byte)(n % 10)).ToArray();
        string ext = gzip ? ".gz" : "";
        string img = Path.Combine(dir.Path, "images" + ext), lab = Path.Combine(dir.Path, "labels" + ext);
        Save(img, MnistIdx.ImagesMagic, new[] { count, side, side }, pixels, gzip);
        Save(lab, MnistIdx.LabelsMagic, new[] { count }, labels, gzip);
        return (img, lab);
    }

    public static void Save(string path, int magic, int[] dims, byte[] data, bool gzip)
    {
        using var file = File.Create(path);
        using Stream s = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        MnistIdx.Write(s, magic, dims, data);
    }
}

public sealed class MnistDataTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsPlainAndGzipIdx(bool gzip)
    {
        using var dir = new TempDir();
        var (img, lab) = GeneratedMnist.Write(dir, 30, gzip: gzip);
        var (images, labels) = MnistIdx.ReadPair(img, lab);
        Assert.Equal((30, 28, 28), (images.Count, images.Rows, images.Columns));
        Assert.Equal(Enumerable.Range(0, 30).Select(n => (byte)(n % 10)), labels);
        Assert.True(images.Image(3)[6 * 28 + 11] >= 128);
    }

    [Fact]
    public void BadFilesGiveMessagesWithFileOffsetAndProblem()
    {
        using var dir = new TempDir();
        string Bad(string name, int magic, int[] dims, byte[] data) { var p = Path.Combine(dir.Path, name); GeneratedMnist.Save(p, magic, dims, data, false); return p; }
        var e1 = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(Bad("a", MnistIdx.LabelsMagic, new[] { 2 }, new byte[2])));
        Assert.Contains("byte 0: magic number 0x00000801, expected 0x00000803", e1.Message);
        var e2 = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(Bad("b", MnistIdx.ImagesMagic, new[] { 2, 28, 28 }, new byte[100])));
        Assert.Contains("byte 116: file ends after 100 of the 1568 data bytes", e2.Message);
        var e3 = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadLabels(Bad("c", MnistIdx.LabelsMagic, new[] { 3 }, new byte[] { 1, 12, 3 })));
        Assert.Contains("byte 9 (label 1): 12 is not a digit", e3.Message);
        var e4 = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadLabels(Bad("d", MnistIdx.LabelsMagic, new[] { 2 }, new byte[] { 1, 2, 3 })));
        Assert.Contains("extra data", e4.Message);
        File.WriteAllBytes(Path.Combine(dir.Path, "e"), new byte[] { 0, 0 });
        Assert.Contains("file ends inside the 4-byte IDX magic", Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(Path.Combine(dir.Path, "e"))).Message);
        var (img, _) = GeneratedMnist.Write(dir, 20);
        var lab = Bad("f", MnistIdx.LabelsMagic, new[] { 19 }, new byte[19]);
        Assert.Contains("19 labels, but", Assert.Throws<InvalidDataException>(() => MnistIdx.ReadPair(img, lab)).Message);
    }

    [Fact]
    public void RotationByAQuarterTurnIsTorchRot90AndTheBuildIsSeededAndDisjoint()
    {
        var rng = new Random(3);
        var src = new byte[28 * 28];
        rng.NextBytes(src);
        var rotated = new float[28 * 28];
        RotatedMnist.Rotate(src, 28, Math.PI / 2, rotated);
        var expected = rot90(tensor(src.Select(b => b / 255f).ToArray(), new long[] { 28, 28 }), 1, (0, 1)).contiguous().data<float>().ToArray();
        for (int p = 0; p < rotated.Length; p++) Assert.True(Math.Abs(rotated[p] - expected[p]) < 1e-5);

        using var dir = new TempDir();
        var (img, lab) = GeneratedMnist.Write(dir, 40);
        var (images, labels) = MnistIdx.ReadPair(img, lab);
        var a = RotatedMnist.Build(images, labels, 5, 20, 8, 12);
        var b = RotatedMnist.Build(images, labels, 5, 20, 8, 12);
        var c = RotatedMnist.Build(images, labels, 6, 20, 8, 12);
        Assert.Equal(a.Split("train").Pixels, b.Split("train").Pixels);
        Assert.NotEqual(a.Split("train").SourceIndex, c.Split("train").SourceIndex);
        var all = a.Split("train").SourceIndex.Concat(a.Split("dev").SourceIndex).Concat(a.Split("test").SourceIndex).ToArray();
        Assert.Equal(40, all.Distinct().Count());
        var upright = a.Split(RotatedMnist.TestUpright);
        Assert.Equal(a.Split("test").SourceIndex, upright.SourceIndex);
        int first = upright.SourceIndex[0];
        Assert.Equal(images.Image(first)[6 * 28 + 10] / 255f, upright.Pixels[6 * 28 + 10]);
        Assert.NotEqual(a.Split("test").Pixels.Take(784), upright.Pixels.Take(784));
        Assert.Throws<ArgumentException>(() => RotatedMnist.Build(images, labels, 5, 30, 8, 12));

        string path = Path.Combine(dir.Path, "rm.bin");
        a.Save(path);
        var loaded = RotatedMnist.Load(path);
        Assert.Equal(a.Splits.Select(s => s.Name), loaded.Splits.Select(s => s.Name));
        Assert.Equal(a.Split("dev").Pixels, loaded.Split("dev").Pixels);
        Assert.Equal(a.Split("dev").Labels, loaded.Split("dev").Labels);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..500]);
        Assert.Contains("file ends", Assert.Throws<InvalidDataException>(() => RotatedMnist.Load(path)).Message);
        Assert.Contains("not a rotated-MNIST file", Assert.Throws<InvalidDataException>(() => RotatedMnist.Load(img)).Message);
    }
}
