using EquiSharp.IO;

namespace EquiSharp.Applications.Images.Formats;

/// <summary>Greyscale images of one size, row-major bytes (0 = background), N × rows × columns.</summary>
public sealed record ImageSet(int Count, int Rows, int Columns, byte[] Pixels)
{
    /// <summary>The pixels of image i.</summary>
    public ReadOnlySpan<byte> Image(int i) => Pixels.AsSpan(i * Rows * Columns, Rows * Columns);
}

/// <summary>
/// The IDX format of MNIST (LeCun et al.): a big-endian header — two zero bytes, a type byte (0x08 = unsigned byte),
/// the number of dimensions — then one big-endian 32-bit size per dimension and the data. Images are 0x00000803
/// (N, rows, columns), labels 0x00000801 (N). Files may be gzip-compressed (recognised by their magic bytes).
/// Every problem is an <see cref="InvalidDataException"/> naming the file, the byte offset and what was expected.
/// </summary>
public static class MnistIdx
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    /// <summary>Reads an IDX image file (plain or .gz).</summary>
    public static ImageSet ReadImages(string path)
    {
        var (dims, data) = Read(path, ImagesMagic, "images (0x00000803: unsigned bytes, 3 dimensions)");
        return new ImageSet(dims[0], dims[1], dims[2], data);
    }

    /// <summary>Reads an IDX label file (plain or .gz); labels must be 0–9.</summary>
    public static byte[] ReadLabels(string path)
    {
        var (_, data) = Read(path, LabelsMagic, "labels (0x00000801: unsigned bytes, 1 dimension)");
        for (int i = 0; i < data.Length; i++)
            if (data[i] > 9) throw new InvalidDataException($"{path}: byte {8 + i} (label {i}): {data[i]} is not a digit label 0–9.");
        return data;
    }

    /// <summary>Reads images and labels and checks that they describe the same number of examples.</summary>
    public static (ImageSet Images, byte[] Labels) ReadPair(string imagesPath, string labelsPath)
    {
        var images = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (images.Count != labels.Length)
            throw new InvalidDataException($"{labelsPath}: {labels.Length} labels, but {imagesPath} holds {images.Count} images.");
        return (images, labels);
    }

    private static (int[] Dims, byte[] Data) Read(string path, int magic, string what)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        using var stream = LineSource.OpenMaybeGzip(path);
        var header = new byte[4];
        if (stream.ReadAtLeast(header, 4, throwOnEndOfStream: false) < 4)
            throw new InvalidDataException($"{path}: byte 0: file ends inside the 4-byte IDX magic number (expected {what}).");
        int found = ReadBigEndian(header);
        if (found != magic)
            throw new InvalidDataException($"{path}: byte 0: magic number 0x{found:x8}, expected 0x{magic:x8} for MNIST {what}" +
                (found is ImagesMagic or LabelsMagic ? $" — this is an IDX {(found == ImagesMagic ? "image" : "label")} file; were --images and --labels swapped?" : "."));
        int rank = magic & 0xff;
        var dims = new int[rank];
        var buffer = new byte[4];
        long expected = 1;
        for (int d = 0; d < rank; d++)
        {
            if (stream.ReadAtLeast(buffer, 4, throwOnEndOfStream: false) < 4)
                throw new InvalidDataException($"{path}: byte {4 + 4 * d}: file ends inside the size of dimension {d}.");
            dims[d] = ReadBigEndian(buffer);
            if (dims[d] <= 0 || (d > 0 && dims[d] > 4096))
                throw new InvalidDataException($"{path}: byte {4 + 4 * d}: dimension {d} has size {dims[d]}, expected a positive size{(d > 0 ? " up to 4096" : "")}.");
            expected *= dims[d];
        }
        if (expected > int.MaxValue) throw new InvalidDataException($"{path}: the header announces {expected} bytes of data, too many.");
        var data = new byte[expected];
        int got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        long start = 4 + 4L * rank;
        if (got < data.Length)
            throw new InvalidDataException($"{path}: byte {start + got}: file ends after {got} of the {expected} data bytes the header announces ({string.Join(" × ", dims)}).");
        if (stream.ReadByte() >= 0)
            throw new InvalidDataException($"{path}: byte {start + expected}: extra data after the {expected} bytes the header announces ({string.Join(" × ", dims)}).");
        return (dims, data);
    }

    private static int ReadBigEndian(byte[] b) => (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];

    /// <summary>Writes an IDX file (for tests and tools): magic, big-endian sizes, bytes.</summary>
    public static void Write(Stream stream, int magic, int[] dims, byte[] data)
    {
        void Int(int v) { stream.WriteByte((byte)(v >> 24)); stream.WriteByte((byte)(v >> 16)); stream.WriteByte((byte)(v >> 8)); stream.WriteByte((byte)v); }
        Int(magic);
        foreach (int d in dims) Int(d);
        stream.Write(data);
    }
}
