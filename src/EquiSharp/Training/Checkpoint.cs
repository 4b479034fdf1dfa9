using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Training;

/// <summary>Everything besides tensors that a resumed run needs to continue exactly where it stopped.</summary>
public sealed record TrainingState
{
    public int Epoch { get; init; }
    public int StepInEpoch { get; init; }
    public long Step { get; init; }
    public double EpochLossSum { get; init; }
    public int EpochLossCount { get; init; }
    public double BestScore { get; init; } = double.NegativeInfinity;
    public int BestEpoch { get; init; } = -1;
    public int EpochsWithoutImprovement { get; init; }
    public bool Finished { get; init; }
    public string StopReason { get; init; } = "";
    public double TrainSeconds { get; init; }
    public List<EpochRecord> History { get; init; } = new();
}

/// <summary>One finished epoch: mean training loss and the dev metrics.</summary>
public sealed record EpochRecord(int Epoch, long Step, double TrainLoss, Dictionary<string, double> Dev, double Score, double Seconds);

/// <summary>
/// Atomic checkpoints: a checkpoint is a folder (model.bin, optimizer.bin, rng.bin, state.json) written under a
/// temporary name and then renamed into place, so a crash at any moment leaves the previous checkpoint or the new one,
/// never a torn one.
/// </summary>
public static class Checkpoint
{
    public const string LatestName = "checkpoint";
    public const string BestName = "best";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes model, optimizer, torch RNG and state into <paramref name="outDir"/>/<paramref name="name"/> atomically.</summary>
    public static void Save(string outDir, nn.Module model, OptimizerHelper? optimizer, TrainingState state, string name = LatestName,
        IReadOnlyDictionary<string, string>? extraFiles = null)
    {
        Directory.CreateDirectory(outDir);
        string final = Path.Combine(outDir, name);
        string tmp = Path.Combine(outDir, $".{name}.tmp-{Environment.ProcessId}");
        string old = Path.Combine(outDir, $".{name}.old");
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        model.save(Path.Combine(tmp, "model.bin"));
        optimizer?.save_state_dict(Path.Combine(tmp, "optimizer.bin"));
        using (var rng = torch.get_rng_state()) File.WriteAllBytes(Path.Combine(tmp, "rng.bin"), rng.data<byte>().ToArray());
        File.WriteAllText(Path.Combine(tmp, "state.json"), JsonSerializer.Serialize(state, Json));
        if (extraFiles is not null)
            foreach (var (file, text) in extraFiles) File.WriteAllText(Path.Combine(tmp, file), text);
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(final)) Directory.Move(final, old);
        Directory.Move(tmp, final);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>Path of a usable checkpoint folder (falls back to the previous one if a crash hit between the two renames).</summary>
    public static string? Locate(string outDir, string name = LatestName)
    {
        string final = Path.Combine(outDir, name), old = Path.Combine(outDir, $".{name}.old");
        if (File.Exists(Path.Combine(final, "state.json"))) return final;
        if (File.Exists(Path.Combine(old, "state.json"))) return old;
        return null;
    }

    /// <summary>Loads model (and optimizer and RNG when given) from a checkpoint; returns its state, or null if there is none.</summary>
    public static TrainingState? Load(string outDir, nn.Module model, OptimizerHelper? optimizer = null, bool restoreRng = true, string name = LatestName)
    {
        string? dir = Locate(outDir, name);
        if (dir is null) return null;
        model.load(Path.Combine(dir, "model.bin"));
        foreach (var m in model.modules()) (m as Symmetry.IMaterializedWeightCache)?.InvalidateCache();
        if (optimizer is not null && File.Exists(Path.Combine(dir, "optimizer.bin")))
            optimizer.load_state_dict(Path.Combine(dir, "optimizer.bin"));
        if (restoreRng && File.Exists(Path.Combine(dir, "rng.bin")))
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, "rng.bin"));
            using var t = torch.tensor(bytes, dtype: ScalarType.Byte);
            torch.set_rng_state(t);
        }
        return ReadStateFile(Path.Combine(dir, "state.json"));
    }

    /// <summary>
    /// The training state (loop position, history of epochs) of a run directory, without loading a model.
    /// </summary>
    /// <exception cref="FileNotFoundException">The directory holds no checkpoint.</exception>
    /// <exception cref="InvalidDataException">state.json is not a training state (the message names the file).</exception>
    public static TrainingState ReadState(string outDir, string name = LatestName)
    {
        string dir = Locate(outDir, name)
            ?? throw new FileNotFoundException($"{outDir}: no checkpoint (expected {Path.Combine(outDir, name, "state.json")}).");
        return ReadStateFile(Path.Combine(dir, "state.json"));
    }

    private static TrainingState ReadStateFile(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty or invalid training state.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a training state (line {e.LineNumber + 1}: {e.Message})", e);
        }
    }

    /// <summary>Writes a text file atomically (temp file, then rename).</summary>
    public static void WriteTextAtomic(string path, string text)
    {
        string tmp = path + $".tmp-{Environment.ProcessId}";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
