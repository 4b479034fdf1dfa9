using System.Security.Cryptography;
using System.Text.Json;

namespace EquiSharp.Training;

/// <summary>Length and SHA-256 of one file of a checkpoint.</summary>
public sealed record ManifestEntry(long Bytes, string Sha256);

/// <summary>
/// <c>checkpoint.json</c>, written last into a checkpoint folder: the checkpoint format and the length and SHA-256 of
/// every other file, so a file cut short or altered after the checkpoint was written is named before anything is
/// loaded. Folders from before the manifest (format 1) have none and are checked by structure only.
/// </summary>
public sealed record CheckpointManifest(int Format, Dictionary<string, ManifestEntry> Files)
{
    public const string FileName = "checkpoint.json";
    /// <summary>Format this build writes; it reads this one and every older one.</summary>
    public const int CurrentFormat = 2;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Hashes every file of <paramref name="dir"/> and writes the manifest next to them.</summary>
    public static void Write(string dir)
    {
        var files = Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != FileName).OrderBy(f => f, StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileName(f), f => new ManifestEntry(new FileInfo(f).Length, Hash(f)));
        File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(new CheckpointManifest(CurrentFormat, files), Json));
    }

    /// <summary>The manifest of a checkpoint folder, or null for a folder from before manifests (format 1).</summary>
    /// <exception cref="UnreadableCheckpointException">The manifest is unreadable or from a newer, incompatible format.</exception>
    public static CheckpointManifest? Read(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        CheckpointManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(path), Json)
                ?? throw new UnreadableCheckpointException(path, CheckpointProblem.NotACheckpoint, "empty manifest");
        }
        catch (JsonException e)
        {
            throw new UnreadableCheckpointException(path, JsonProblem(path), $"line {e.LineNumber + 1}: {e.Message}", e);
        }
        if (manifest.Format > CurrentFormat)
            throw new UnreadableCheckpointException(path, CheckpointProblem.IncompatibleVersion,
                $"checkpoint format {manifest.Format}; this build of EquiSharp reads formats up to {CurrentFormat}");
        if (manifest.Files is null) throw new UnreadableCheckpointException(path, CheckpointProblem.NotACheckpoint, "no file list");
        return manifest;
    }

    /// <summary>Checks that every listed file of <paramref name="dir"/> has the length and SHA-256 it was written with.</summary>
    /// <exception cref="UnreadableCheckpointException">Names the first file that is missing, shorter, longer or different.</exception>
    public void VerifyFiles(string dir)
    {
        foreach (var (name, entry) in Files)
        {
            string file = Path.Combine(dir, name);
            if (!File.Exists(file)) throw new UnreadableCheckpointException(file, CheckpointProblem.Truncated, "the file is missing");
            long length = new FileInfo(file).Length;
            if (length < entry.Bytes)
                throw new UnreadableCheckpointException(file, CheckpointProblem.Truncated, $"{length} of {entry.Bytes} bytes");
            if (length > entry.Bytes)
                throw new UnreadableCheckpointException(file, CheckpointProblem.Corrupted, $"{length} bytes, {entry.Bytes} were written");
            if (Hash(file) != entry.Sha256)
                throw new UnreadableCheckpointException(file, CheckpointProblem.Corrupted, "its content differs from the checksum written with it");
        }
    }

    /// <summary>A JSON file that stops before its closing brace was cut short; any other parse error means another kind of file.</summary>
    public static CheckpointProblem JsonProblem(string path)
    {
        string text = File.ReadAllText(path).TrimEnd();
        return text.Length == 0 || text[0] == '{' && text[^1] != '}' ? CheckpointProblem.Truncated : CheckpointProblem.NotACheckpoint;
    }

    private static string Hash(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexString(SHA256.HashData(stream));
    }
}
