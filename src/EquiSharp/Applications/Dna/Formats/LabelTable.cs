using System.Globalization;

namespace EquiSharp.Applications.Dna.Formats;

/// <summary>
/// Labels of DNA sequences, a tab-separated file: a header <c>id &lt;task&gt;… [split]</c>, then one row per sequence
/// with 0/1 per task and, if the header has a <c>split</c> column, train / valid / test. Errors name file, line and problem.
/// </summary>
public sealed record LabelTable(string[] TaskNames, IReadOnlyList<(string Id, bool[] Labels, string? Split, int Line)> Rows)
{
    public static readonly string[] SplitNames = { "train", "valid", "test" };

    public bool HasSplit => Rows.Count > 0 && Rows[0].Split is not null;

    public static LabelTable Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: labels file not found.");
        var lines = File.ReadAllLines(path);
        int first = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (first < 0) throw new InvalidDataException($"{path}: empty labels file (expected a header 'id<TAB>task…[<TAB>split]').");
        var header = lines[first].Split('\t').Select(h => h.Trim()).ToArray();
        if (header.Length < 2 || !header[0].Equals("id", StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}:{first + 1}: the header must start with 'id' followed by at least one task column, found '{lines[first]}'.");
        bool hasSplit = header[^1].Equals("split", StringComparison.OrdinalIgnoreCase);
        var tasks = header[1..(hasSplit ? ^1 : ^0)];
        if (tasks.Length == 0) throw new InvalidDataException($"{path}:{first + 1}: no task columns between 'id' and 'split'.");
        var rows = new List<(string, bool[], string?, int)>();
        var seen = new Dictionary<string, int>();
        for (int i = first + 1; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var f = lines[i].Split('\t').Select(x => x.Trim()).ToArray();
            if (f.Length != header.Length) throw new InvalidDataException($"{path}:{i + 1}: {f.Length} columns, the header has {header.Length}.");
            if (seen.TryGetValue(f[0], out int at)) throw new InvalidDataException($"{path}:{i + 1}: id '{f[0]}' is repeated (first at line {at}).");
            seen[f[0]] = i + 1;
            var labels = new bool[tasks.Length];
            for (int t = 0; t < tasks.Length; t++)
                labels[t] = f[1 + t] switch
                {
                    "1" => true,
                    "0" => false,
                    _ => throw new InvalidDataException($"{path}:{i + 1}: task '{tasks[t]}' has '{f[1 + t]}' (expected 0 or 1)."),
                };
            string? split = null;
            if (hasSplit)
            {
                split = f[^1].ToLowerInvariant();
                if (!SplitNames.Contains(split)) throw new InvalidDataException($"{path}:{i + 1}: split '{f[^1]}' (expected train, valid or test).");
            }
            rows.Add((f[0], labels, split, i + 1));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path}: a header but no rows.");
        return new LabelTable(tasks, rows);
    }

    public static void Write(string path, string[] taskNames, IEnumerable<(string Id, bool[] Labels, string Split)> rows)
    {
        using var w = new StreamWriter(path);
        w.Write("id\t" + string.Join("\t", taskNames) + "\tsplit\n");
        foreach (var (id, labels, split) in rows)
            w.Write(string.Create(CultureInfo.InvariantCulture, $"{id}\t{string.Join("\t", labels.Select(l => l ? "1" : "0"))}\t{split}\n"));
    }
}
