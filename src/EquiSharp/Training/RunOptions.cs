using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EquiSharp.Training;

/// <summary>What happens to a run option that is given again, with another value, when a run is resumed.</summary>
public enum ResumePolicy
{
    /// <summary>The run is defined by it (model kind, architecture, data, seed): a different value is an error.</summary>
    Refused,
    /// <summary>A hyperparameter a run can change in flight (learning rate, crop, batch…): accepted with a warning line.</summary>
    Warned,
    /// <summary>How long and where the run goes on (epochs, device, checkpoint frequency…): accepted silently.</summary>
    Free,
}

/// <summary>
/// Marks a property of an application's run options record as a recorded run option: its command-line name and its
/// <see cref="ResumePolicy"/>. Properties without it (or with <see cref="JsonIgnoreAttribute"/>) are not recorded.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RunOptionAttribute(string name, ResumePolicy policy) : Attribute
{
    public string Name { get; } = name;
    public ResumePolicy Policy { get; } = policy;
}

/// <summary>
/// The options a run was started with, recorded as <c>run.json</c> in its run directory, so that <c>--resume DIR</c>
/// alone continues it. On resume, every option takes its recorded value unless given again on the command line;
/// a value given again that differs is refused, accepted with a warning, or accepted, by the option's
/// <see cref="ResumePolicy"/>. One typed record per application (properties marked with <see cref="RunOptionAttribute"/>).
/// </summary>
public static class RunOptions
{
    public const string FileName = "run.json";
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The recorded options of <typeparamref name="T"/> with their command-line names and policies, in declaration order.</summary>
    public static IReadOnlyList<(PropertyInfo Property, RunOptionAttribute Option)> Fields<T>() =>
        typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Option: p.GetCustomAttribute<RunOptionAttribute>()!))
            .Where(f => f.Option is not null).ToList();

    /// <summary>
    /// Format of run.json this build writes: 2 carries <see cref="VersionedJsonFile{T}.VersionProperty"/>; format 1
    /// (run directories from before it) has the same fields and loads as it is.
    /// </summary>
    public const int CurrentFormat = 2;

    /// <summary>run.json of the options record <typeparamref name="T"/>.</summary>
    public static VersionedJsonFile<T> File<T>() where T : class => new(FileName, CurrentFormat, "run options", Json);

    /// <summary>Writes <paramref name="options"/> to <c>run.json</c> in <paramref name="dir"/> (atomically, with its format version).</summary>
    public static void Save<T>(string dir, T options) where T : class => File<T>().Save(dir, options);

    /// <summary>The options recorded in <paramref name="dir"/>, or null if it has no <c>run.json</c>.</summary>
    /// <exception cref="UnreadableCheckpointException">run.json is truncated, not a run record, or from a newer format.</exception>
    public static T? Load<T>(string dir) where T : class => File<T>().TryLoad(dir);

    /// <summary>
    /// The options of a resumed run: <paramref name="given"/> (the command line) with every recorded option that was
    /// not given again (<paramref name="givenNames"/>) taken from <paramref name="recorded"/>. Options given again
    /// with a different value follow their policy: all refused ones are named in one <see cref="ArgumentException"/>;
    /// each warned one produces one line through <paramref name="warn"/>. Unrecorded properties come from <paramref name="given"/>.
    /// </summary>
    public static T Resume<T>(T recorded, T given, IReadOnlySet<string> givenNames, Action<string> warn) where T : class
    {
        var result = Clone(given);
        var refused = new List<string>();
        foreach (var (property, option) in Fields<T>())
        {
            object? old = property.GetValue(recorded), now = property.GetValue(given);
            if (!givenNames.Contains(option.Name)) { property.SetValue(result, old); continue; }
            if (Text(old) == Text(now)) continue;
            switch (option.Policy)
            {
                case ResumePolicy.Refused: refused.Add($"{option.Name} {Text(now)} (the run has {Text(old)})"); break;
                case ResumePolicy.Warned: warn($"warning: {option.Name} changes from {Text(old)} to {Text(now)} on resume"); break;
            }
        }
        if (refused.Count > 0)
            throw new ArgumentException($"a resumed run keeps {string.Join(", ", refused)}; start a new run (--out) to change {(refused.Count == 1 ? "it" : "them")}.");
        return result;
    }

    /// <summary>One paragraph for <c>--help</c>: which options a resumed run refuses to change, warns about, or takes freely.</summary>
    public static string Describe<T>()
    {
        string Names(ResumePolicy p) => string.Join(", ", Fields<T>().Where(f => f.Option.Policy == p).Select(f => f.Option.Name));
        return $"--resume DIR alone continues a run with the options recorded in DIR/{FileName}. Options given again: " +
               $"refused if changed: {Names(ResumePolicy.Refused)}; accepted with a warning: {Names(ResumePolicy.Warned)}; " +
               $"accepted: {Names(ResumePolicy.Free)}.";
    }

    /// <summary>A value as the user would write it (JSON without quotes; "none" for null).</summary>
    private static string Text(object? value) => value switch
    {
        null => "none",
        System.Collections.IEnumerable list and not string => string.Join(" ", list.Cast<object?>().Select(Text)), // --train a --train b: "a b"
        _ => JsonSerializer.Serialize(value, Compact).Trim('"'),
    };

    private static readonly JsonSerializerOptions Compact = new(Json) { WriteIndented = false };

    private static T Clone<T>(T value) where T : class =>
        (T)typeof(object).GetMethod("MemberwiseClone", BindingFlags.NonPublic | BindingFlags.Instance)!.Invoke(value, null)!;
}
