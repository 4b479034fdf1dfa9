using System.Text;
using EquiSharp.Training;

namespace EquiSharp.Applications.Images.Formats;

/// <summary>One labelled split: images as floats in [0, 1], N × channels × side × side, and the source index of each image.</summary>
public sealed record LabelledImages(string Name, int Side, float[] Pixels, byte[] Labels, int[] SourceIndex, int Channels = 1)
{
    public int Count => Labels.Length;
}

/// <summary>
/// The rotated-MNIST data set built once by <c>mnist build</c>: a seeded, deterministic split of the source images
/// into train / dev / test (7,000 / 1,000 / 2,000 by default), every image rotated by its own angle drawn uniformly
/// from [0, 2π) (bilinear interpolation about the image centre, zeros outside), and an upright (unrotated) copy of
/// the test images ("test-upright": the paper's second test column).
/// File layout (little-endian): "EQRMNIST", version 1, seed, side, split count; per split: name, count, labels,
/// source indices, float32 pixels. Cohen &amp; Welling used the standard 10k / 2k / 50k rotated-MNIST split; only the
/// 10,000 t10k images are available here, hence this smaller one.
/// </summary>
public sealed record RotatedMnist(int Seed, IReadOnlyList<LabelledImages> Splits)
{
    private const string Magic = "EQRMNIST";
    private const int Version = 1;
    public const string Train = ImageDataSet.Train, Dev = ImageDataSet.Dev, Test = ImageDataSet.Test, TestUpright = "test-upright";

    /// <summary>The splits as a classifier's data set, reported on the rotated and the upright test images.</summary>
    public ImageDataSet AsDataSet() => new("rotated MNIST", Splits, new[] { Test, TestUpright });

    /// <summary>The split with this name.</summary>
    public LabelledImages Split(string name) => AsDataSet().Split(name);

    /// <summary>Splits and rotates. The shuffle and every angle come from <paramref name="seed"/> only.</summary>
    public static RotatedMnist Build(ImageSet images, byte[] labels, int seed, int train = 7000, int dev = 1000, int test = 2000)
    {
        if (images.Rows != images.Columns) throw new ArgumentException($"Rotated MNIST needs square images, got {images.Rows}×{images.Columns}.");
        if (train <= 0 || dev <= 0 || test <= 0) throw new ArgumentException($"Split sizes must be positive, got {train}/{dev}/{test}.");
        if (train + dev + test > images.Count)
            throw new ArgumentException($"A {train}/{dev}/{test} split needs {train + dev + test} images, the source has {images.Count}.");
        var order = Enumerable.Range(0, images.Count).ToArray();
        new Random(Seeds.Derive(seed, Seeds.DevSplitStream, 0)).Shuffle(order);
        var angles = new Random(Seeds.Derive(seed, AngleStream, 0));
        int side = images.Rows;
        LabelledImages Make(string name, int[] idx, bool rotate)
        {
            var pixels = new float[idx.Length * side * side];
            for (int n = 0; n < idx.Length; n++)
            {
                var dst = pixels.AsSpan(n * side * side, side * side);
                if (rotate) Rotate(images.Image(idx[n]), side, angles.NextDouble() * 2 * Math.PI, dst);
                else for (int p = 0; p < dst.Length; p++) dst[p] = images.Image(idx[n])[p] / 255f;
            }
            return new LabelledImages(name, side, pixels, idx.Select(i => labels[i]).ToArray(), idx);
        }
        var trainIdx = order[..train];
        var devIdx = order[train..(train + dev)];
        var testIdx = order[(train + dev)..(train + dev + test)];
        return new RotatedMnist(seed, new[]
        {
            Make(Train, trainIdx, true), Make(Dev, devIdx, true), Make(Test, testIdx, true), Make(TestUpright, testIdx, false),
        });
    }

    /// <summary>Seed stream of the rotation angles.</summary>
    public const int AngleStream = 21;

    /// <summary>
    /// Rotates an image by <paramref name="angle"/> (counter-clockwise as displayed) about its centre ((side−1)/2, (side−1)/2):
    /// each output pixel samples the source at the inversely rotated position with bilinear interpolation, zero outside.
    /// </summary>
    public static void Rotate(ReadOnlySpan<byte> source, int side, double angle, Span<float> destination)
    {
        double c = (side - 1) / 2.0, cos = Math.Cos(angle), sin = Math.Sin(angle);
        var pixels = source.ToArray();
        float At(int r, int col) => r < 0 || r >= side || col < 0 || col >= side ? 0f : pixels[r * side + col] / 255f;
        for (int i = 0; i < side; i++)
            for (int j = 0; j < side; j++)
            {
                double y = i - c, x = j - c;
                // inverse rotation (rows grow downwards, so a displayed counter-clockwise turn is (x, y) -> (x cos + y sin, −x sin + y cos))
                double sx = cos * x - sin * y + c, sy = sin * x + cos * y + c;
                int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                double fx = sx - x0, fy = sy - y0;
                double v = (1 - fy) * ((1 - fx) * At(y0, x0) + fx * At(y0, x0 + 1)) + fy * ((1 - fx) * At(y0 + 1, x0) + fx * At(y0 + 1, x0 + 1));
                destination[i * side + j] = (float)v;
            }
    }

    /// <summary>Writes the data set atomically (temporary file, then rename).</summary>
    public void Save(string path)
    {
        string tmp = path + $".tmp-{Environment.ProcessId}";
        using (var w = new BinaryWriter(File.Create(tmp), Encoding.UTF8))
        {
            w.Write(Encoding.ASCII.GetBytes(Magic));
            w.Write(Version);
            w.Write(Seed);
            w.Write(Splits[0].Side);
            w.Write(Splits.Count);
            foreach (var s in Splits)
            {
                w.Write(s.Name);
                w.Write(s.Count);
                w.Write(s.Labels);
                foreach (int i in s.SourceIndex) w.Write(i);
                var bytes = new byte[s.Pixels.Length * sizeof(float)];
                Buffer.BlockCopy(s.Pixels, 0, bytes, 0, bytes.Length);
                w.Write(bytes);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads a file written by <see cref="Save"/>; problems name the file and what is wrong.</summary>
    public static RotatedMnist Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file (build it with 'equisharp mnist build').", path);
        using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        try
        {
            if (Encoding.ASCII.GetString(r.ReadBytes(Magic.Length)) != Magic)
                throw new InvalidDataException($"{path}: byte 0: not a rotated-MNIST file (expected the magic '{Magic}' written by 'equisharp mnist build').");
            int version = r.ReadInt32();
            if (version != Version) throw new InvalidDataException($"{path}: byte 8: version {version}, this build reads version {Version}.");
            int seed = r.ReadInt32(), side = r.ReadInt32(), count = r.ReadInt32();
            if (side <= 0 || side > 4096 || count <= 0 || count > 16)
                throw new InvalidDataException($"{path}: byte 16: implausible header (side {side}, {count} splits).");
            var splits = new List<LabelledImages>();
            for (int s = 0; s < count; s++)
            {
                long at = r.BaseStream.Position;
                string name = r.ReadString();
                int n = r.ReadInt32();
                if (n <= 0 || (long)n * side * side * 4 > r.BaseStream.Length)
                    throw new InvalidDataException($"{path}: byte {at}: split '{name}' announces {n} images, but the file ends at byte {r.BaseStream.Length} (truncated?).");
                var labels = r.ReadBytes(n);
                var source = new int[n];
                for (int i = 0; i < n; i++) source[i] = r.ReadInt32();
                var bytes = r.ReadBytes(n * side * side * sizeof(float));
                if (bytes.Length != n * side * side * sizeof(float) || labels.Length != n)
                    throw new InvalidDataException($"{path}: byte {r.BaseStream.Position}: file ends inside split '{name}'.");
                if (labels.Any(l => l > 9)) throw new InvalidDataException($"{path}: split '{name}' holds a label outside 0–9.");
                var pixels = new float[n * side * side];
                Buffer.BlockCopy(bytes, 0, pixels, 0, bytes.Length);
                splits.Add(new LabelledImages(name, side, pixels, labels, source));
            }
            return new RotatedMnist(seed, splits);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: byte {r.BaseStream.Position}: file ends early (truncated?).");
        }
    }
}
