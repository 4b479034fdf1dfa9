using System.Text.Json;
using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.Training;

namespace EquiSharp.Applications.Recommendation.Training;

/// <summary>
/// The original user and item ids behind a model's dense indices (<c>vocabulary.json</c> in the model directory). A
/// model's embeddings are only meaningful for the same numbering: data read again for evaluation must give exactly
/// these ids in this order (a reordered or different file would give other indices with the same counts).
/// </summary>
public sealed record RecommendationVocabulary(string[] Users, string[] Items)
{
    public const string FileName = "vocabulary.json";

    public static RecommendationVocabulary From(InteractionLog log) => new(log.UserIds.ToArray(), log.ItemIds.ToArray());

    public void Save(string dir) => Checkpoint.WriteTextAtomic(Path.Combine(dir, FileName), JsonSerializer.Serialize(this));

    /// <summary>The vocabulary recorded in <paramref name="dir"/>, or null if there is none.</summary>
    public static RecommendationVocabulary? Load(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var v = JsonSerializer.Deserialize<RecommendationVocabulary>(File.ReadAllText(path));
            return v is { Users: not null, Items: not null } ? v
                : throw new UnreadableCheckpointException(path, CheckpointProblem.NotACheckpoint, "not a user and item vocabulary");
        }
        catch (JsonException e)
        {
            throw new UnreadableCheckpointException(path, CheckpointManifest.JsonProblem(path), $"vocabulary unreadable at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    /// <summary>Checks that <paramref name="log"/> (read from <paramref name="source"/>) numbers users and items as the model does.</summary>
    public void Check(InteractionLog log, string source)
    {
        if (!log.UserIds.SequenceEqual(Users) || !log.ItemIds.SequenceEqual(Items))
            throw new InvalidDataException($"{source}: its users and items ({log.UserCount} and {log.ItemCount}, in order of first appearance) " +
                $"are not those the model was trained on ({Users.Length} and {Items.Length}); evaluate on the same interactions in the same order.");
    }
}
