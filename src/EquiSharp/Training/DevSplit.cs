namespace EquiSharp.Training;

/// <summary>
/// A deterministic dev split of a run's training records, saved in its run directory (<c>dev-split.json</c>) so a
/// resumed run, or another run given the file (<c>--dev-split</c>), evaluates on the same records. The record indices
/// are shuffled with a seed derived from the run seed (<see cref="Seeds.DevSplitStream"/>) and the first
/// ⌈fraction·N⌉ (at least 1, at most N − 1) are dev; their names are stored too, so a changed training file is noticed.
/// </summary>
public sealed record DevSplit(int Seed, double Fraction, int TrainCount, int[] DevIndices, string[] DevNames)
{
    public const string FileName = "dev-split.json";

    /// <summary>The file (format 2: with its version; format 1, from before run directories, has the same fields).</summary>
    public static VersionedJsonFile<DevSplit> File { get; } = new(FileName, 2, "dev split", new() { WriteIndented = true });

    /// <summary>Draws the split of <paramref name="names"/> (the training records in order).</summary>
    public static DevSplit Create(IReadOnlyList<string> names, int seed, double fraction)
    {
        if (names.Count < 2) throw new ArgumentException($"Need at least 2 training records to split off a dev set, got {names.Count}.");
        var order = Enumerable.Range(0, names.Count).ToArray();
        new Random(Seeds.Derive(seed, Seeds.DevSplitStream, 0)).Shuffle(order);
        int n = Math.Clamp((int)Math.Ceiling(fraction * names.Count), 1, names.Count - 1);
        var dev = order.Take(n).Order().ToArray();
        return new DevSplit(seed, fraction, names.Count, dev, dev.Select(i => names[i]).ToArray());
    }

    public void Save(string dir) => File.Save(dir, this);

    /// <summary>Loads a split file and checks that it fits <paramref name="names"/>.</summary>
    /// <exception cref="InvalidDataException">The split belongs to other training data.</exception>
    public static DevSplit LoadFile(string path, IReadOnlyList<string> names)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"{path}: no dev split file.", path);
        var split = File.LoadFile(path);
        if (split.DevIndices is null || split.DevNames is null || split.DevNames.Length != split.DevIndices.Length)
            throw new UnreadableCheckpointException(path, CheckpointProblem.NotACheckpoint, "not a dev split (no dev indices and names)");
        if (split.TrainCount != names.Count || split.DevIndices.Any(i => i < 0 || i >= names.Count)
            || split.DevIndices.Where((i, k) => names[i] != split.DevNames[k]).Any())
            throw new InvalidDataException($"{path}: the dev split does not match the training data ({names.Count} records); was --train changed?");
        return split;
    }

    /// <summary>The training and dev records of <paramref name="records"/> (dev in index order).</summary>
    public (List<T> Train, List<T> Dev) Apply<T>(IReadOnlyList<T> records)
    {
        var dev = new HashSet<int>(DevIndices);
        return (records.Where((_, i) => !dev.Contains(i)).ToList(), DevIndices.Select(i => records[i]).ToList());
    }
}
