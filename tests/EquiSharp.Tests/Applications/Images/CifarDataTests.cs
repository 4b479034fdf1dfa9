using EquiSharp.Applications.Images.Formats;

namespace EquiSharp.Tests.Applications.Images;

/// <summary>Small CIFAR-10 binary directories for tests: record n has label n mod 10 and pixel bytes (n + p) mod 256.</summary>
internal static class GeneratedCifar
{
    public static string Write(TempDir dir, int batches = 2, int perBatch = 10, int test = 6)
    {
        string path = Path.Combine(dir.Path, "cifar");
        Directory.CreateDirectory(path);
        int start = 0;
        for (int b = 1; b <= batches; b++, start += perBatch)
            Write(Path.Combine(path, $"data_batch_{b}.bin"), start, perBatch);
        Write(Path.Combine(path, CifarBinary.TestFile), 1000, test);
        return path;
    }

    public static void Write(string file, int first, int count)
    {
        var labels = Enumerable.Range(first, count).Select(n => (byte)(n % 10)).ToArray();
        var pixels = new byte[count * CifarBinary.ImageBytes];
        for (int n = 0; n < count; n++)
            for (int p = 0; p < CifarBinary.ImageBytes; p++) pixels[n * CifarBinary.ImageBytes + p] = (byte)((first + n + p) % 256);
        CifarBinary.Write(file, labels, pixels);
    }
}

public sealed class CifarDataTests
{
    [Fact]
    public void ReadsRecordsInFileOrderAndSplitsTheLastTenthOffAsDev()
    {
        using var dir = new TempDir();
        // data_batch_10 sorts after data_batch_2 by number, not by name
        string path = GeneratedCifar.Write(dir, batches: 2, perBatch: 10);
        GeneratedCifar.Write(Path.Combine(path, "data_batch_10.bin"), 20, 10);
        var data = CifarBinary.Load(path);
        Assert.Equal("CIFAR-10", data.Title);
        var (train, dev, test) = (data.Split(ImageDataSet.Train), data.Split(ImageDataSet.Dev), data.Split(ImageDataSet.Test));
        Assert.Equal((27, 3, 6), (train.Count, dev.Count, test.Count));
        Assert.Equal(new[] { 27, 28, 29 }, dev.SourceIndex);
        Assert.Equal(new byte[] { 7, 8, 9 }, dev.Labels);
        Assert.Equal(3, train.Channels);
        Assert.Equal(32, train.Side);
        Assert.Equal(new[] { ImageDataSet.Test }, data.TestSplits);
        // record 21 (second record of data_batch_10 = source 21): pixel p is (21 + p) mod 256, channel-major (R, G, B planes)
        const int image = 21, red = 5, green = 1024 + 5, blue = 2048 + 5;
        foreach (int p in new[] { red, green, blue })
            Assert.Equal(((image + p) % 256) / 255f, train.Pixels[image * CifarBinary.ImageBytes + p]);
        Assert.Equal((byte)1, train.Labels[image]);
    }

    [Fact]
    public void TruncatedFilesAndBadLabelsNameTheFileAndRecord()
    {
        using var dir = new TempDir();
        string path = GeneratedCifar.Write(dir);
        string file = Path.Combine(path, "data_batch_2.bin");
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(2 * CifarBinary.RecordBytes + 100)]);
        var e = Assert.Throws<InvalidDataException>(() => CifarBinary.Load(path));
        Assert.Contains($"{file}: record 3 (byte {2 * CifarBinary.RecordBytes}): file ends after 100 of its 3073 bytes", e.Message);

        bytes[4 * CifarBinary.RecordBytes] = 12;
        File.WriteAllBytes(file, bytes);
        e = Assert.Throws<InvalidDataException>(() => CifarBinary.Load(path));
        Assert.Contains($"{file}: record 5 (byte {4 * CifarBinary.RecordBytes}): label 12 is not a CIFAR-10 class 0–9", e.Message);

        File.Delete(Path.Combine(path, CifarBinary.TestFile));
        GeneratedCifar.Write(file, 0, 10);
        var missing = Assert.Throws<FileNotFoundException>(() => CifarBinary.Load(path));
        Assert.Contains("test_batch.bin: no such file", missing.Message);
        Assert.Throws<FileNotFoundException>(() => CifarBinary.Load(dir.Path));   // no data_batch_*.bin
    }
}
