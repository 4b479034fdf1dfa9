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
    /// <summary>Processor time of the run's processes (all threads, evaluation included), summed over sessions: what <see cref="TrainerOptions.MaxCpuHours"/> counts.</summary>
    public double TrainCpuSeconds { get; init; }
    public List<EpochRecord> History { get; init; } = new();
    /// <summary>The learning rate a schedule set (null: the optimizer's own, never changed).</summary>
    public double? LearningRate { get; init; }
    /// <summary>The learning-rate schedule's state (<see cref="ILearningRateSchedule"/>).</summary>
    public Dictionary<string, double> Schedule { get; init; } = new();
}

/// <summary>One finished epoch: mean training loss and the dev metrics.</summary>
public sealed record EpochRecord(int Epoch, long Step, double TrainLoss, Dictionary<string, double> Dev, double Score, double Seconds);

/// <summary>
/// Atomic checkpoints: a checkpoint is a folder (model.bin, optimizer.bin, rng.bin, state.json and the
/// <see cref="CheckpointManifest"/> checkpoint.json) written under a temporary name and then renamed into place, so a
/// crash at any moment leaves the previous checkpoint or the new one, never a torn one. Loading checks every file
/// first (<see cref="Verify"/>), so an unusable checkpoint is reported by file and problem and nothing is half-loaded.
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
        CheckpointManifest.Write(tmp);
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

    /// <summary>
    /// Loads model (and optimizer and RNG when given) from a checkpoint; returns its state, or null if there is none.
    /// Every file is checked before the first is loaded.
    /// </summary>
    /// <exception cref="UnreadableCheckpointException">A file of the checkpoint is truncated, of another kind or from an incompatible version.</exception>
    public static TrainingState? Load(string outDir, nn.Module model, OptimizerHelper? optimizer = null, bool restoreRng = true, string name = LatestName)
    {
        string? dir = Locate(outDir, name);
        if (dir is null) return null;
        var state = Verify(dir, model, restoreRng);
        ModelFile.Load(Path.Combine(dir, "model.bin"), model);
        string optimizerFile = Path.Combine(dir, "optimizer.bin");
        if (optimizer is not null && File.Exists(optimizerFile))
        {
            try { optimizer.load_state_dict(optimizerFile); }
            catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidOperationException or IOException or FormatException)
            {
                throw new UnreadableCheckpointException(optimizerFile, e is EndOfStreamException ? CheckpointProblem.Truncated : CheckpointProblem.IncompatibleVersion,
                    $"optimizer state that does not fit this optimizer: {e.Message}", e);
            }
        }
        if (restoreRng && File.Exists(Path.Combine(dir, "rng.bin")))
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, "rng.bin"));
            using var t = torch.tensor(bytes, dtype: ScalarType.Byte);
            torch.set_rng_state(t);
        }
        return state;
    }

    /// <summary>Loads only the model weights of a checkpoint folder (e.g. best/ for evaluation), after checking them and the manifest.</summary>
    /// <exception cref="UnreadableCheckpointException">model.bin (or the manifest) is unusable.</exception>
    public static void LoadWeights(string dir, nn.Module model)
    {
        var manifest = CheckpointManifest.Read(dir);
        string file = Path.Combine(dir, "model.bin");
        ModelFile.Verify(file, model);
        manifest?.VerifyFiles(dir);
        ModelFile.Load(file, model);
    }

    /// <summary>
    /// Checks a checkpoint folder without changing anything: the format, state.json, the model weights against
    /// <paramref name="model"/> and the RNG state's size (which say what kind of damage there is), then every file's
    /// length and checksum against the manifest (which catches the rest). Returns the training state.
    /// </summary>
    /// <exception cref="UnreadableCheckpointException">Names the first unusable file and what is wrong with it.</exception>
    public static TrainingState Verify(string dir, nn.Module model, bool checkRng = true)
    {
        var manifest = CheckpointManifest.Read(dir);
        var state = ReadStateFile(Path.Combine(dir, "state.json"));
        ModelFile.Verify(Path.Combine(dir, "model.bin"), model);
        string rngFile = Path.Combine(dir, "rng.bin");
        if (checkRng && File.Exists(rngFile))
        {
            using var current = torch.get_rng_state();
            long want = current.numel(), have = new FileInfo(rngFile).Length;
            if (have != want)
                throw new UnreadableCheckpointException(rngFile, have < want ? CheckpointProblem.Truncated : CheckpointProblem.NotACheckpoint,
                    $"{have} bytes; a random-generator state has {want}");
        }
        manifest?.VerifyFiles(dir);
        return state;
    }

    /// <summary>
    /// The training state (loop position, history of epochs) of a run directory, without loading a model.
    /// </summary>
    /// <exception cref="FileNotFoundException">The directory holds no checkpoint.</exception>
    /// <exception cref="UnreadableCheckpointException">state.json is truncated or not a training state (the message names the file).</exception>
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
            var state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path), Json)
                ?? throw new UnreadableCheckpointException(path, CheckpointProblem.NotACheckpoint, "null instead of a training state");
            if (state.History is null || state.Step < 0 || state.Epoch < 0 || state.StepInEpoch < 0)
                throw new UnreadableCheckpointException(path, CheckpointProblem.NotACheckpoint, "not a training state (no history or a negative position)");
            return state;
        }
        catch (JsonException e)
        {
            throw new UnreadableCheckpointException(path, CheckpointManifest.JsonProblem(path), $"training state unreadable at line {e.LineNumber + 1}: {e.Message}", e);
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
