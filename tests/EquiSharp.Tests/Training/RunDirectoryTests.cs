using System.Text.Json;
using System.Text.Json.Nodes;
using EquiSharp.Training;

namespace EquiSharp.Tests.Training;

/// <summary>The shared run directory: versioned records (old directories still load), dev splits, curves, refusals.</summary>
public class RunDirectoryTests
{
    /// <summary>A spec record (positional; an enum, written by name).</summary>
    private sealed record Spec(string Data = "a.txt", double LearningRate = 0.1, DayOfWeek Mode = DayOfWeek.Friday);

    /// <summary>What run.json held before it carried a version: the record as RunOptions serialised it then (enums as names, indented).</summary>
    private static string FormatOneRunJson(Spec spec) => JsonSerializer.Serialize(spec, new JsonSerializerOptions
    {
        WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    });

    [Fact]
    public void RecordsCarryTheirFormatVersionFirstAndFilesWithoutOneLoadAsFormatOne()
    {
        using var dir = new TempDir();
        var spec = new Spec("b.txt", 0.25, DayOfWeek.Monday);
        RunOptions.Save(dir.Path, spec);
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, RunOptions.FileName)))!.AsObject();
        Assert.Equal(VersionedJsonFile<Spec>.VersionProperty, written.First().Key);
        Assert.Equal(RunOptions.CurrentFormat, written[VersionedJsonFile<Spec>.VersionProperty]!.GetValue<int>());
        Assert.Equal("Monday", written["Mode"]!.GetValue<string>());
        Assert.Equal(spec, RunOptions.Load<Spec>(dir.Path));

        // a directory written before versions: the same fields, no version
        File.WriteAllText(Path.Combine(dir.Path, RunOptions.FileName), FormatOneRunJson(spec));
        Assert.Equal(spec, RunOptions.Load<Spec>(dir.Path));
        Assert.Equal(spec, RunDirectory.Existing(dir.Path).Read(RunOptions.File<Spec>(), "test"));
    }

    [Fact]
    public void ANewerFormatIsRefusedByNameBeforeAnythingIsRead()
    {
        using var dir = new TempDir();
        RunOptions.Save(dir.Path, new Spec());
        string path = Path.Combine(dir.Path, RunOptions.FileName);
        File.WriteAllText(path, File.ReadAllText(path).Replace($"\"FormatVersion\": {RunOptions.CurrentFormat}", "\"FormatVersion\": 99"));
        var e = Assert.Throws<UnreadableCheckpointException>(() => RunOptions.Load<Spec>(dir.Path));
        Assert.StartsWith(path + ": written by an incompatible version", e.Message);
        Assert.Contains("format 99", e.Message);
        File.WriteAllText(path, "{\"FormatVersion\": 2, \"Data\": ");
        Assert.Contains("truncated", Assert.Throws<UnreadableCheckpointException>(() => RunOptions.Load<Spec>(dir.Path)).Message);
    }

    [Fact]
    public void TheDevSplitIsSavedReusedAndCheckedAgainstTheTrainingRecords()
    {
        using var dir = new TempDir();
        var names = Enumerable.Range(0, 20).Select(i => $"r{i}").ToList();
        var fresh = RunDirectory.StartNew(Path.Combine(dir.Path, "a"));
        var split = fresh.DevSplit(names, seed: 4, fraction: 0.2);
        Assert.Equal(4, split.DevIndices.Length);
        Assert.True(File.Exists(fresh.File(DevSplit.FileName)));

        var resumed = RunDirectory.Existing(fresh.Path).DevSplit(names, seed: 99, fraction: 0.5); // a resumed run keeps its own
        Assert.Equal(split.DevIndices, resumed.DevIndices);
        var reused = RunDirectory.StartNew(Path.Combine(dir.Path, "b")).DevSplit(names, seed: 99, fraction: 0.5, fromFile: fresh.File(DevSplit.FileName));
        Assert.Equal(split.DevIndices, reused.DevIndices);

        // a split file from before versions (same fields) loads; one from other data is refused
        string old = Path.Combine(dir.Path, "old-split.json");
        File.WriteAllText(old, JsonSerializer.Serialize(split, new JsonSerializerOptions { WriteIndented = true }));
        Assert.Equal(split.DevNames, DevSplit.LoadFile(old, names).DevNames);
        var other = names.Select(n => n + "x").ToList();
        Assert.Contains("does not match the training data", Assert.Throws<InvalidDataException>(() => DevSplit.LoadFile(old, other)).Message);
    }

    [Fact]
    public void ANewRunRefusesADirectoryHoldingACheckpointAndResumingNeedsTheDirectory()
    {
        using var dir = new TempDir();
        using var model = TorchSharp.torch.nn.Linear(2, 1);
        Checkpoint.Save(dir.Path, model, null, new TrainingState());
        Assert.Contains("already holds a run", Assert.Throws<IOException>(() => RunDirectory.StartNew(dir.Path)).Message);
        Assert.Contains("not a run directory", Assert.Throws<DirectoryNotFoundException>(() => RunDirectory.Existing(Path.Combine(dir.Path, "none"))).Message);
        var weights = RunDirectory.Existing(dir.Path).LoadSelectedWeights(model); // no best/ yet: the latest checkpoint
        Assert.False(weights.Best);
        Assert.Equal("latest weights (step 0)", weights.Describe("dev acc"));
    }

    [Fact]
    public void TheHistoryCsvHasOneRowPerEpochInTheInvariantCulture()
    {
        var history = new List<EpochRecord>
        {
            new(1, 10, 0.5, new Dictionary<string, double> { ["acc"] = 0.25, ["f1"] = 0.125 }, 0.25, 1.5),
            new(2, 20, 0.25, new Dictionary<string, double> { ["acc"] = 0.5, ["f1"] = 0.375 }, 0.5, 3),
        };
        Assert.Equal("epoch,step,train_loss,dev_acc,dev_f1,score,seconds\n1,10,0.5,0.25,0.125,0.25,1.5\n2,20,0.25,0.5,0.375,0.5,3\n",
            RunDirectory.HistoryCsv(history));
    }
}
