using System.Text;

namespace EquiSharp.Applications.Protein.Features;

/// <summary>
/// The per-protein feature cache (<c>&lt;name&gt;.features</c>). Binary, little-endian; strings are .NET
/// BinaryWriter strings (7-bit-encoded byte length, then UTF-8). Layout of version 1:
/// <code>
/// magic     8 bytes  "EQSPROT\0"
/// version   int32    1
/// name, sequence, best row            string ×3
/// L         int32
/// labels    string ×L        residue number + insertion code
/// columns   int32 ×L         alignment column per residue, -1 = unmapped
/// coverage, identity, Meff            float64 ×3
/// rows, width                         int32 ×2
/// D1        int32; names string ×D1; values float32 ×(L·D1), row-major per residue
/// D2        int32; names string ×D2; values float32 ×(D2·L·L), channel-major, each L×L row-major
/// Cβ distances float32 ×(L·L); Cα distances float32 ×(L·L)   (NaN = atom missing)
/// </code>
/// A file of another version or magic is rejected with a message telling to rerun <c>protein features</c>.
/// </summary>
public static class ProteinFeatureFile
{
    /// <summary>File extension of the cache.</summary>
    public const string Extension = ".features";

    /// <summary>Current format version.</summary>
    public const int Version = 1;

    private static readonly byte[] Magic = "EQSPROT\0"u8.ToArray();

    /// <summary>Writes atomically (temporary file, then rename).</summary>
    public static void Write(string path, ProteinFeatures f)
    {
        string full = Path.GetFullPath(path), temp = full + ".tmp";
        using (var w = new BinaryWriter(File.Create(temp), Encoding.UTF8))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(f.Name); w.Write(f.Sequence); w.Write(f.BestRow);
            w.Write(f.Length);
            foreach (var l in f.ResidueLabels) w.Write(l);
            foreach (var c in f.ColumnOfResidue) w.Write(c);
            w.Write(f.Coverage); w.Write(f.Identity); w.Write(f.EffectiveSequences);
            w.Write(f.AlignmentRows); w.Write(f.AlignmentWidth);
            WriteChannels(w, f.OneDNames, [f.OneD]);
            WriteChannels(w, f.TwoDNames, f.TwoD);
            WriteFloats(w, f.BetaDistances);
            WriteFloats(w, f.AlphaDistances);
        }
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Reads a feature file.</summary>
    /// <exception cref="InvalidDataException">Not a feature file, another version, or truncated.</exception>
    public static ProteinFeatures Read(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        try
        {
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException($"{path}: not an EquiSharp protein feature file");
            int version = r.ReadInt32();
            if (version != Version)
                throw new InvalidDataException($"{path}: feature file version {version}, this build reads version {Version}; rerun 'equisharp protein features'");
            string name = r.ReadString(), sequence = r.ReadString(), bestRow = r.ReadString();
            int n = r.ReadInt32();
            if (n != sequence.Length) throw new InvalidDataException($"{path}: length {n} does not match the sequence ({sequence.Length})");
            var labels = Enumerable.Range(0, n).Select(_ => r.ReadString()).ToArray();
            var columns = Enumerable.Range(0, n).Select(_ => r.ReadInt32()).ToArray();
            double coverage = r.ReadDouble(), identity = r.ReadDouble(), meff = r.ReadDouble();
            int rows = r.ReadInt32(), width = r.ReadInt32();
            var (oneNames, oneD) = ReadChannels(r, n, perResidue: true);
            var (twoNames, twoD) = ReadChannels(r, n, perResidue: false);
            return new ProteinFeatures
            {
                Name = name, Sequence = sequence, BestRow = bestRow, ResidueLabels = labels, ColumnOfResidue = columns,
                Coverage = coverage, Identity = identity, EffectiveSequences = meff, AlignmentRows = rows, AlignmentWidth = width,
                OneDNames = oneNames, OneD = oneD[0], TwoDNames = twoNames, TwoD = twoD,
                BetaDistances = ReadFloats(r, n * n), AlphaDistances = ReadFloats(r, n * n),
            };
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: truncated feature file", e);
        }
    }

    /// <summary>Every feature file directly in <paramref name="directory"/>, in ordinal name order.</summary>
    public static IReadOnlyList<string> List(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: no such directory");
        var files = Directory.EnumerateFiles(directory, "*" + Extension).Order(StringComparer.Ordinal).ToList();
        return files.Count > 0 ? files : throw new IOException($"{directory}: no {Extension} files (run 'equisharp protein features' first)");
    }

    private static void WriteChannels(BinaryWriter w, string[] names, float[][] values)
    {
        w.Write(names.Length);
        foreach (var s in names) w.Write(s);
        foreach (var v in values) WriteFloats(w, v);
    }

    /// <summary>1-D: one array of L·D values; 2-D: D arrays of L·L values.</summary>
    private static (string[] Names, float[][] Values) ReadChannels(BinaryReader r, int n, bool perResidue)
    {
        int d = r.ReadInt32();
        if (d is < 0 or > 10_000) throw new InvalidDataException($"implausible channel count {d}");
        var names = Enumerable.Range(0, d).Select(_ => r.ReadString()).ToArray();
        var values = perResidue ? [ReadFloats(r, n * d)] : Enumerable.Range(0, d).Select(_ => ReadFloats(r, n * n)).ToArray();
        return (names, values);
    }

    private static void WriteFloats(BinaryWriter w, float[] values) => w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));

    private static float[] ReadFloats(BinaryReader r, int count)
    {
        var bytes = r.ReadBytes(count * sizeof(float));
        if (bytes.Length != count * sizeof(float)) throw new EndOfStreamException();
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}
