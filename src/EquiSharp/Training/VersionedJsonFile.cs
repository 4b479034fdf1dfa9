using System.Text.Json;
using System.Text.Json.Nodes;

namespace EquiSharp.Training;

/// <summary>
/// One typed record stored as a JSON file of a run directory, with its format version as the first property
/// (<see cref="VersionProperty"/>). A file without it is format 1: written before run directories carried versions,
/// with the same fields, so it loads as it is. A file from a newer format is refused by name, never half-read.
/// </summary>
/// <typeparam name="T">The record (its properties are the file's other fields).</typeparam>
/// <param name="FileName">The file's name inside a run directory (e.g. <c>run.json</c>).</param>
/// <param name="CurrentFormat">The format this build writes; it reads this one and every older one.</param>
/// <param name="What">What the file holds, for error messages ("run options", "dev split", …).</param>
/// <param name="Json">How the record is serialised (e.g. enums as names).</param>
public sealed record VersionedJsonFile<T>(string FileName, int CurrentFormat, string What, JsonSerializerOptions Json) where T : class
{
    /// <summary>The name of the format-version property (no record written here has a property of that name).</summary>
    public const string VersionProperty = "FormatVersion";

    /// <summary>Writes <paramref name="value"/> into <paramref name="dir"/> atomically, version first.</summary>
    public void Save(string dir, T value)
    {
        var fields = JsonSerializer.SerializeToNode(value, Json)!.AsObject();
        var file = new JsonObject { [VersionProperty] = CurrentFormat };
        foreach (var (name, node) in fields.ToList())
        {
            fields.Remove(name);
            file[name] = node;
        }
        Directory.CreateDirectory(dir);
        Checkpoint.WriteTextAtomic(Path.Combine(dir, FileName), file.ToJsonString(Json));
    }

    /// <summary>The record stored in <paramref name="dir"/>, or null if the file does not exist.</summary>
    public T? TryLoad(string dir) => File.Exists(Path.Combine(dir, FileName)) ? LoadFile(Path.Combine(dir, FileName)) : null;

    /// <summary>The record stored at <paramref name="path"/> (any format up to <see cref="CurrentFormat"/>).</summary>
    /// <exception cref="UnreadableCheckpointException">The file is truncated, not this record, or from a newer format.</exception>
    public T LoadFile(string path)
    {
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is not JsonObject fields)
                throw new UnreadableCheckpointException(path, CheckpointProblem.NotACheckpoint, $"not {What} (expected a JSON object)");
            int format = 1;
            if (fields[VersionProperty] is JsonNode version)
            {
                format = version.GetValue<int>();
                fields.Remove(VersionProperty);
            }
            if (format > CurrentFormat)
                throw new UnreadableCheckpointException(path, CheckpointProblem.IncompatibleVersion,
                    $"{What} format {format}; this build of EquiSharp reads formats up to {CurrentFormat}");
            return fields.Deserialize<T>(Json) ?? throw new UnreadableCheckpointException(path, CheckpointProblem.NotACheckpoint, $"null instead of {What}");
        }
        catch (JsonException e)
        {
            throw new UnreadableCheckpointException(path, CheckpointManifest.JsonProblem(path), $"{What} unreadable at line {e.LineNumber + 1}: {e.Message}", e);
        }
        catch (InvalidOperationException e) // a format version that is not a number
        {
            throw new UnreadableCheckpointException(path, CheckpointProblem.NotACheckpoint, $"not {What}: {e.Message}", e);
        }
    }
}
