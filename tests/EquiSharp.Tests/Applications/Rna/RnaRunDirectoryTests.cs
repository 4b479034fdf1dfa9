using System.Diagnostics;
using System.Text.Json;
using EquiSharp.Cli.Commands;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Tests.Cli;
using EquiSharp.Training;

namespace EquiSharp.Tests.Applications.Rna;

/// <summary>Runs that survive: resume from the run directory alone, resume policies, unreadable checkpoints, SIGKILL.</summary>
[Collection("rna-serial")]
public sealed class RnaRunDirectoryTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => InProcessCli.Run(new RnaCommand(), args);

    private static string TrainFile(TempDir dir, int records = 14)
    {
        string train = Path.Combine(dir.Path, "train.fa");
        RnaFile.Write(train, SyntheticRna.Generate(records, 16, 32, seed: 31), RnaFileFormat.DotBracketFasta);
        return train;
    }

    private static readonly string[] SmallRun = { "--size", "small", "--batch", "4", "--crop", "32", "--dev-max-length", "32", "--seed", "3" };

    /// <summary>Every file of a directory tree with its bytes, to show that a failed command changed nothing.</summary>
    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToBase64String(File.ReadAllBytes(f)));

    /// <summary>A small SCNN run of 2 steps (3 per epoch) in dir/run; returns the training file and the run directory.</summary>
    private static (string Train, string Run) TwoStepRun(TempDir dir)
    {
        string train = TrainFile(dir), run = Path.Combine(dir.Path, "run");
        var r = Run(new[] { "rna", "train", "--train", train, "--out", run, "--max-steps", "2" }.Concat(SmallRun).ToArray());
        Assert.True(r.Code == 0, r.Err + r.Out);
        return (train, run);
    }

    [Fact]
    public void ResumeAloneContinuesTheRunAndOptionsGivenAgainFollowTheirPolicy()
    {
        using var dir = new TempDir();
        var (train, run) = TwoStepRun(dir);
        (int Code, string Out, string Err) r;
        Assert.True(File.Exists(Path.Combine(run, RunOptions.FileName)));

        // refused: model kind, size, activation, data files — one error line naming every refused option, nothing written
        var before = Snapshot(run);
        r = Run("rna", "train", "--resume", run, "--model", "cnn", "--size", "paper", "--activation", "sigmoid", "--train", Path.Combine(dir.Path, "other.fa"));
        Assert.Equal(1, r.Code);
        string error = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        foreach (var name in new[] { "--model cnn", "--size paper", "--activation Sigmoid", "--train" }) Assert.Contains(name, error);
        Assert.Equal(before, Snapshot(run));

        // --resume DIR alone (no --train): the recorded data, model and hyperparameters; a warned option prints one line
        r = Run("rna", "train", "--resume", run, "--max-steps", "6", "--lr", "0.001", "--checkpoint-every", "1");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("resumed from", r.Out);
        Assert.True(r.Out.Contains("finished: 6 steps"), r.Out); // 3 steps per epoch: epoch 1 was cut at 2, epoch 2 runs 3, epoch 3 is cut at the cap after 1
        Assert.Single(r.Out.Split('\n'), l => l.StartsWith("warning: --lr changes from 0.002 to 0.001"));
        Assert.Contains("crops 32, batch 4", r.Out); // recorded, not the defaults (128, 10)
        var recorded = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunOptions.FileName))).RootElement;
        Assert.Equal(0.001, recorded.GetProperty("LearningRate").GetDouble());   // the run now goes on with the new rate
        Assert.Equal(Path.GetFullPath(train), recorded.GetProperty("TrainPaths")[0].GetString());

        // free options change silently; the same value of a refused option is accepted
        r = Run("rna", "train", "--resume", run, "--max-steps", "9", "--tile", "64", "--model", "scnn", "--train", train);
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.DoesNotContain("warning:", r.Out);
        Assert.True(r.Out.Contains("finished: 9 steps"), r.Out); // --max-steps counts steps taken over the run (TrainerOptions.MaxSteps): 2 + 3 + 1 + 3
    }

    /// <summary>
    /// A run directory written before records carried format versions (run.json and dev-split.json with the same
    /// fields and no FormatVersion, as the earlier code wrote them) resumes, and is rewritten in the current format.
    /// </summary>
    [Fact]
    public void ARunDirectoryFromBeforeFormatVersionsResumes()
    {
        using var dir = new TempDir();
        var (_, run) = TwoStepRun(dir);
        foreach (var file in new[] { RunOptions.FileName, DevSplit.FileName })
        {
            string path = Path.Combine(run, file);
            var fields = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            Assert.True(fields.Remove(VersionedJsonFile<DevSplit>.VersionProperty), $"{file} has no format version");
            File.WriteAllText(path, fields.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        var r = Run("rna", "train", "--resume", run, "--max-steps", "3");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("resumed from", r.Out);
        Assert.True(r.Out.Contains("finished: 3 steps, 2 epochs"), r.Out);
        Assert.Contains($"\"FormatVersion\": {RunOptions.CurrentFormat}", File.ReadAllText(Path.Combine(run, RunOptions.FileName)));
    }

    [Fact]
    public void HelpNamesTheThreeResumeGroups()
    {
        var r = Run("rna", "train", "--help");
        string help = string.Join(" ", r.Out.Split((char[])['\n', ' '], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("refused if changed: --train, --valid", help);
        Assert.Contains("--model, --size, --activation", help);
        Assert.Contains("accepted with a warning: --crop, --crop-schedule, --batch, --batching, --lr", help);
        Assert.Contains("--init, --bn-momentum, --bn-eps, --cnn-norm-stats, --output-bias, --dev-window", help);
        Assert.Contains("--patience", help);
        Assert.Contains("accepted: --epochs, --max-steps, --max-cpu-hours, --device, --tile", help);
        Assert.Contains("--checkpoint-every", help);
    }

    [Fact]
    public void UnreadableCheckpointsGiveOneErrorLineNamingTheFileAndChangeNothing()
    {
        using var dir = new TempDir();
        var (train, run) = TwoStepRun(dir);
        (int Code, string Out, string Err) r;
        string pristine = Path.Combine(dir.Path, "pristine");
        CopyTree(run, pristine);

        var cases = new (string File, Action<string> Damage, string Problem)[]
        {
            ("checkpoint/model.bin", f => Truncate(f, 0.5), "truncated"),
            ("checkpoint/model.bin", f => File.WriteAllText(f, "hello, not weights"), "not a checkpoint"),
            ("checkpoint/state.json", f => File.WriteAllText(f, "{\"Epoch\": 1, \"Step"), "truncated"),
            ("checkpoint/state.json", f => File.WriteAllText(f, "this is not json"), "not a checkpoint"),
            ("checkpoint/optimizer.bin", f => Truncate(f, 0.9), "truncated"),
            ("checkpoint/rng.bin", f => Flip(f), "corrupted"),
            ("dev-split.json", f => Truncate(f, 0.5), "truncated"),
            ("run.json", f => File.WriteAllText(f, "[1, 2]"), "not a checkpoint"),
            ("checkpoint/checkpoint.json", f => File.WriteAllText(f, File.ReadAllText(f).Replace($"\"Format\": {CheckpointManifest.CurrentFormat}", "\"Format\": 99")), "incompatible version"),
        };
        foreach (var (file, damage, problem) in cases)
        {
            Directory.Delete(run, true);
            CopyTree(pristine, run);
            damage(Path.Combine(run, file));
            var before = Snapshot(run);
            r = Run("rna", "train", "--resume", run, "--max-steps", "4");
            Assert.True(r.Code == 1, $"{file} ({problem}): exit {r.Code}\n{r.Err}{r.Out}");
            string error = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: " + Path.Combine(run, file), error);
            Assert.True(error.Contains(problem), error);
            Assert.Equal(before, Snapshot(run));
        }

        // a model file without a manifest (e.g. copied by hand) is checked by its structure
        Directory.Delete(run, true);
        CopyTree(pristine, run);
        File.Delete(Path.Combine(run, "checkpoint", CheckpointManifest.FileName));
        File.WriteAllText(Path.Combine(run, "checkpoint", "model.bin"), "hello, not weights at all");
        r = Run("rna", "train", "--resume", run, "--max-steps", "4");
        Assert.Equal(1, r.Code);
        Assert.StartsWith($"error: {Path.Combine(run, "checkpoint", "model.bin")}: not a checkpoint file", r.Err.Trim());
        // the same checks guard eval (best/ weights)
        Truncate(Path.Combine(run, "best", "model.bin"), 0.3);
        r = Run("rna", "eval", "--model", run, "--data", train);
        Assert.Equal(1, r.Code);
        Assert.StartsWith($"error: {Path.Combine(run, "best", "model.bin")}: truncated", r.Err.Trim());
    }

    /// <summary>
    /// SIGKILL at an arbitrary moment of a run that checkpoints every step: resuming gives the uninterrupted run's
    /// weights (bit for bit) and loss history, because a mid-epoch checkpoint holds the position in the epoch's
    /// batch order, the running loss, the optimizer and the RNG.
    /// </summary>
    [Fact]
    public void ARunKilledWithSigkillMidEpochResumesToTheUninterruptedResult()
    {
        using var dir = new TempDir();
        string train = TrainFile(dir, records: 22); // 20 train records / batch 4 = 5 steps per epoch
        string[] Args(string outDir) => new[] { "rna", "train", "--train", train, "--out", outDir, "--epochs", "2", "--checkpoint-every", "1", "--patience", "0" }
            .Concat(SmallRun).ToArray();
        string reference = Path.Combine(dir.Path, "reference"), killed = Path.Combine(dir.Path, "killed");
        var r = ChildCli.Run(Args(reference));
        Assert.True(r.Code == 0, r.Err + r.Out);

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "EquiSharp.Cli.dll"));
        foreach (var a in Args(killed)) psi.ArgumentList.Add(a);
        using (var child = Process.Start(psi)!)
        {
            child.OutputDataReceived += (_, _) => { };
            child.ErrorDataReceived += (_, _) => { };
            child.BeginOutputReadLine(); child.BeginErrorReadLine();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!(ReadStep(killed) is { Step: >= 3 } s && s.StepInEpoch > 0) && !child.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.False(child.HasExited, "the child finished before it could be killed mid-epoch");
            Process.Start("kill", new[] { "-KILL", child.Id.ToString() })!.WaitForExit();
            Assert.True(child.WaitForExit(30_000));
        }
        var atKill = Checkpoint.ReadState(killed);
        Assert.False(atKill.Finished);

        r = ChildCli.Run("rna", "train", "--resume", killed);
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("resumed from", r.Out);
        foreach (var file in new[] { "checkpoint/model.bin", "checkpoint/optimizer.bin", "best/model.bin" })
            Assert.True(File.ReadAllBytes(Path.Combine(reference, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(killed, file))), $"{file} differs from the uninterrupted run's");
        var (whole, resumed) = (Checkpoint.ReadState(reference), Checkpoint.ReadState(killed));
        Assert.Equal(10, resumed.Step);
        Assert.Equal(whole.History.Select(h => (h.Epoch, h.Step, h.TrainLoss, h.Score)), resumed.History.Select(h => (h.Epoch, h.Step, h.TrainLoss, h.Score)));
    }

    private static TrainingState? ReadStep(string dir)
    {
        try { return Checkpoint.Locate(dir) is null ? null : Checkpoint.ReadState(dir); }
        catch (IOException) { return null; } // caught between the checkpoint's two renames
    }

    private static void Truncate(string file, double fraction)
    {
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes.Take((int)(bytes.Length * fraction)).ToArray());
    }

    private static void Flip(string file)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(file, bytes);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
    }
}
