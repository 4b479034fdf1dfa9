using System.Text.Json;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Training;

namespace EquiSharp.Applications.Rna.Training;

/// <summary>How the per-epoch dev evaluation cuts the dev records (<c>--dev-window</c>).</summary>
public enum DevWindowKind
{
    /// <summary>The first <c>--dev-max-length</c> nt of each record (cheap, but a prefix holds few long-range pairs).</summary>
    Prefix,
    /// <summary>One random window of <c>--dev-max-length</c> nt per record, drawn once from the seed and stored in the run directory.</summary>
    Random,
}

/// <summary>
/// The dev windows a run selects on, stored as <c>dev-windows.json</c> in the run directory so a resumed run (and anyone
/// reading it later) scores the same windows. Random windows start uniformly in [0, L − length]; records no longer
/// than the length are taken whole.
/// </summary>
public sealed record RnaDevWindows(int Seed, int WindowLength, RnaWindow[] Windows, string[] Names)
{
    public const string FileName = "dev-windows.json";

    /// <summary>Prefix windows (no randomness; not stored).</summary>
    public static RnaDevWindows Prefixes(IReadOnlyList<RnaStructure> dev, int length) =>
        new(0, length, dev.Select((r, k) => new RnaWindow(k, 0, Math.Min(r.Length, length))).ToArray(), dev.Select(r => r.Name).ToArray());

    /// <summary>One random window per record of at most <paramref name="length"/> nt, from <paramref name="seed"/>.</summary>
    public static RnaDevWindows Draw(IReadOnlyList<RnaStructure> dev, int length, int seed)
    {
        if (length <= 0) throw new ArgumentException($"--dev-max-length {length}: expected a positive length.");
        var rng = new Random(Seeds.Derive(seed, Seeds.DevWindowStream, 0));
        var windows = dev.Select((r, k) => r.Length <= length ? new RnaWindow(k, 0, r.Length) : new RnaWindow(k, rng.Next(0, r.Length - length + 1), length)).ToArray();
        return new RnaDevWindows(seed, length, windows, dev.Select(r => r.Name).ToArray());
    }

    /// <summary>Pairs of the dev records that lie inside their windows, over all pairs (how much of the structure selection sees).</summary>
    public double PairCoverage(IReadOnlyList<RnaStructure> dev)
    {
        long inside = 0, all = 0;
        foreach (var w in Windows)
            foreach (var (i, j) in dev[w.Record].Pairs())
            {
                all++;
                if (i >= w.Start && j < w.Start + w.Length) inside++;
            }
        return all == 0 ? 0 : inside / (double)all;
    }

    public void Save(string dir) =>
        Checkpoint.WriteTextAtomic(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>The windows stored in <paramref name="dir"/>, checked against the dev records they were drawn for.</summary>
    public static RnaDevWindows Load(string dir, IReadOnlyList<RnaStructure> dev)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no dev windows; the run was started with --dev-window random, which stores them here.", path);
        RnaDevWindows stored;
        try
        {
            stored = JsonSerializer.Deserialize<RnaDevWindows>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty dev windows.");
        }
        catch (JsonException e)
        {
            throw new UnreadableCheckpointException(path, CheckpointManifest.JsonProblem(path), $"dev windows unreadable at line {e.LineNumber + 1}: {e.Message}", e);
        }
        if (stored.Windows is null || stored.Names is null || stored.Windows.Length != dev.Count || stored.Names.Length != dev.Count
            || stored.Windows.Where((w, k) => w.Record != k || w.Start < 0 || w.Length <= 0 || w.Start + w.Length > dev[k].Length || stored.Names[k] != dev[k].Name).Any())
            throw new InvalidDataException($"{path}: the dev windows do not match the {dev.Count} dev records of the run's dev split.");
        return stored;
    }
}
