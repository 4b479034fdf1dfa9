namespace EquiSharp.Applications.Images.Formats;

/// <summary>
/// The binary CIFAR-10 format (Krizhevsky 2009, "cifar-10-batches-bin"): files of 3,073-byte records, each one label
/// byte (0–9) followed by a 32×32 colour image as 1,024 red, 1,024 green and 1,024 blue bytes, rows top to bottom.
/// The training set is data_batch_1.bin … data_batch_5.bin (10,000 records each), the test set test_batch.bin.
/// Problems are <see cref="InvalidDataException"/>s naming the file, the record and its byte offset.
/// </summary>
public static class CifarBinary
{
    public const int Side = 32, Channels = 3, Classes = 10;
    public const int ImageBytes = Channels * Side * Side, RecordBytes = 1 + ImageBytes;
    public const string TestFile = "test_batch.bin", TrainPattern = "data_batch_*.bin";

    /// <summary>The labels and pixel bytes (N × 3 × 32 × 32) of one file.</summary>
    public static (byte[] Labels, byte[] Pixels) ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) throw new InvalidDataException($"{path}: empty file (expected {RecordBytes}-byte CIFAR-10 records).");
        int count = bytes.Length / RecordBytes;
        if (bytes.Length % RecordBytes != 0)
            throw new InvalidDataException($"{path}: record {count + 1} (byte {(long)count * RecordBytes}): file ends after {bytes.Length % RecordBytes} of its {RecordBytes} bytes " +
                $"(truncated? a CIFAR-10 binary file is whole records of 1 label byte + {ImageBytes} pixel bytes).");
        var labels = new byte[count];
        var pixels = new byte[(long)count * ImageBytes];
        for (int n = 0; n < count; n++)
        {
            long at = (long)n * RecordBytes;
            if (bytes[at] >= Classes)
                throw new InvalidDataException($"{path}: record {n + 1} (byte {at}): label {bytes[at]} is not a CIFAR-10 class 0–9 (is this the CIFAR-100 format, or not CIFAR at all?).");
            labels[n] = bytes[at];
            Buffer.BlockCopy(bytes, (int)at + 1, pixels, n * ImageBytes, ImageBytes);
        }
        return (labels, pixels);
    }

    /// <summary>
    /// The CIFAR-10 directory as train / dev / test splits (pixels scaled to [0, 1]): every data_batch_*.bin in number
    /// order, of which the last <paramref name="devFraction"/> of the records (5,000 of 50,000) are held out as the dev
    /// split for best-weights selection; test_batch.bin is the test split.
    /// </summary>
    public static ImageDataSet Load(string dir, double devFraction = 0.1)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: no such directory (expected the CIFAR-10 binary version: {TrainPattern}, {TestFile}).");
        var trainFiles = Directory.GetFiles(dir, TrainPattern).OrderBy(BatchNumber).ToList();
        if (trainFiles.Count == 0) throw new FileNotFoundException($"{dir}: no {TrainPattern} files (expected the CIFAR-10 binary version, cifar-10-batches-bin).");
        var parts = trainFiles.Select(ReadFile).ToList();
        var labels = parts.SelectMany(p => p.Labels).ToArray();
        var pixels = parts.SelectMany(p => p.Pixels).ToArray();
        int dev = (int)Math.Round(labels.Length * devFraction);
        if (dev < 1 || dev >= labels.Length) throw new InvalidDataException($"{dir}: {labels.Length} training records are too few for a dev split of {devFraction:P0}.");
        var test = ReadFile(Path.Combine(dir, TestFile));
        int train = labels.Length - dev;
        return new ImageDataSet("CIFAR-10", new[]
        {
            Split(ImageDataSet.Train, labels, pixels, 0, train),
            Split(ImageDataSet.Dev, labels, pixels, train, dev),
            Split(ImageDataSet.Test, test.Labels, test.Pixels, 0, test.Labels.Length),
        }, new[] { ImageDataSet.Test });
    }

    private static LabelledImages Split(string name, byte[] labels, byte[] pixels, int start, int count)
    {
        var values = new float[(long)count * ImageBytes];
        for (long i = 0; i < values.Length; i++) values[i] = pixels[(long)start * ImageBytes + i] / 255f;
        return new LabelledImages(name, Side, values, labels[start..(start + count)], Enumerable.Range(start, count).ToArray(), Channels);
    }

    private static int BatchNumber(string path) =>
        int.TryParse(Path.GetFileNameWithoutExtension(path).AsSpan("data_batch_".Length), out int n) ? n : int.MaxValue;

    /// <summary>Writes records in the CIFAR-10 binary format (for tests and tools).</summary>
    public static void Write(string path, byte[] labels, byte[] pixels)
    {
        if (pixels.Length != labels.Length * ImageBytes) throw new ArgumentException($"{labels.Length} labels need {labels.Length * ImageBytes} pixel bytes, got {pixels.Length}.");
        using var file = File.Create(path);
        for (int n = 0; n < labels.Length; n++)
        {
            file.WriteByte(labels[n]);
            file.Write(pixels, n * ImageBytes, ImageBytes);
        }
    }
}
