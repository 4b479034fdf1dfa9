using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Training;

/// <summary>
/// Reads model weights (TorchSharp's <c>Module.save</c> format) only after checking that the file holds exactly the
/// tensors the module expects. The format is an entry count, then per entry its name, element type, shape and raw
/// data; walking those headers tells a truncated file, a file of another kind and one written for another
/// architecture apart before anything is loaded, where TorchSharp itself would only say "Attempted to read past the
/// end of the stream".
/// </summary>
public static class ModelFile
{
    /// <summary>Checks <paramref name="path"/> against <paramref name="module"/>'s state dict, then loads it.</summary>
    /// <exception cref="UnreadableCheckpointException">The file is missing entries, truncated, of another kind or for another model.</exception>
    public static void Load(string path, nn.Module module)
    {
        Verify(path, module);
        module.load(path);
        foreach (var m in module.modules()) (m as Symmetry.IMaterializedWeightCache)?.InvalidateCache();
    }

    /// <summary>Walks the file's headers and compares names, element types and shapes with the module's state dict.</summary>
    public static void Verify(string path, nn.Module module)
    {
        if (!File.Exists(path)) throw new UnreadableCheckpointException(path, CheckpointProblem.Truncated, "the file is missing");
        var expected = module.state_dict().ToDictionary(kv => kv.Key, kv => (Type: (int)kv.Value.dtype, Shape: kv.Value.shape));
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        long length = reader.BaseStream.Length;
        if (length == 0) throw new UnreadableCheckpointException(path, CheckpointProblem.Truncated, "the file is empty");
        try
        {
            long count = ReadEncoded(reader);
            if (count <= 0 || count > 1_000_000) throw NotModel(path, $"its first field says {count} tensors");
            for (long k = 0; k < count; k++)
            {
                string name = ReadName(reader, path, k);
                int type = (int)ReadEncoded(reader);
                long rank = ReadEncoded(reader);
                if (rank < 0 || rank > 16 || ElementBytes(type) is not long elementBytes)
                    throw NotModel(path, $"entry {k + 1} has element type {type} and rank {rank}");
                var shape = new long[rank];
                for (int d = 0; d < rank; d++) shape[d] = ReadEncoded(reader);
                if (!expected.TryGetValue(name, out var want))
                    throw new UnreadableCheckpointException(path, CheckpointProblem.IncompatibleVersion, $"it holds '{name}', which this model does not have");
                if (want.Type != type || !want.Shape.SequenceEqual(shape))
                    throw new UnreadableCheckpointException(path, CheckpointProblem.IncompatibleVersion,
                        $"'{name}' is {(ScalarType)type} [{string.Join(", ", shape)}], this model expects {(ScalarType)want.Type} [{string.Join(", ", want.Shape)}]");
                long bytes = shape.Aggregate(1L, (a, b) => a * b) * elementBytes;
                if (reader.BaseStream.Position + bytes > length)
                    throw new UnreadableCheckpointException(path, CheckpointProblem.Truncated,
                        $"{length} bytes, but tensor '{name}' needs {reader.BaseStream.Position + bytes - length} more");
                reader.BaseStream.Seek(bytes, SeekOrigin.Current);
                expected.Remove(name);
            }
        }
        catch (EndOfStreamException)
        {
            throw new UnreadableCheckpointException(path, CheckpointProblem.Truncated, $"it ends after {length} bytes, inside a tensor header");
        }
        catch (FormatException e)
        {
            throw NotModel(path, e.Message);
        }
        if (expected.Count > 0)
            throw new UnreadableCheckpointException(path, CheckpointProblem.IncompatibleVersion, $"it lacks '{expected.Keys.First()}' and {expected.Count - 1} more tensors of this model");
        if (reader.BaseStream.Position != length)
            throw NotModel(path, $"{length - reader.BaseStream.Position} bytes follow the last tensor");
    }

    /// <summary>An entry name: a length-prefixed UTF-8 state-dict key (letters, digits, '_' and '.'); anything else means another kind of file.</summary>
    private static string ReadName(BinaryReader reader, string path, long entry)
    {
        long size = ReadEncoded(reader);
        if (size <= 0 || size > 4096) throw NotModel(path, $"entry {entry + 1} has a name of {size} bytes");
        var bytes = reader.ReadBytes((int)size);
        if (!bytes.All(b => b is (byte)'_' or (byte)'.' || char.IsAsciiLetterOrDigit((char)b)))
            throw NotModel(path, $"entry {entry + 1} is not named like a tensor");
        if (bytes.Length < size) throw new EndOfStreamException();
        return Encoding.ASCII.GetString(bytes);
    }

    private static UnreadableCheckpointException NotModel(string path, string detail) =>
        new(path, CheckpointProblem.NotACheckpoint, $"not TorchSharp model weights: {detail}");

    /// <summary>Bytes per element of TorchSharp's element type codes (null for codes a model file never holds).</summary>
    private static long? ElementBytes(int type) => type switch
    {
        0 or 1 or 11 => 1,        // uint8, int8, bool
        2 or 5 or 15 => 2,        // int16, float16, bfloat16
        3 or 6 => 4,              // int32, float32
        4 or 7 or 9 => 8,         // int64, float64, complex64
        10 => 16,                 // complex128
        _ => null,
    };

    /// <summary>The 7-bit variable-length integer TorchSharp writes for counts, types and sizes.</summary>
    private static long ReadEncoded(BinaryReader reader)
    {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = reader.ReadByte();
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new FormatException("a length field runs over 9 bytes");
    }
}
