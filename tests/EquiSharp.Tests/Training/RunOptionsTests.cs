using EquiSharp.Training;

namespace EquiSharp.Tests.Training;

public class RunOptionsTests
{
    private sealed record Options
    {
        [RunOption("--data", ResumePolicy.Refused)] public string Data { get; init; } = "a.txt";
        [RunOption("--lr", ResumePolicy.Warned)] public double LearningRate { get; init; } = 0.1;
        [RunOption("--epochs", ResumePolicy.Free)] public int Epochs { get; init; } = 3;
        [RunOption("--limit", ResumePolicy.Free)] public long? Limit { get; init; }
        public string NotRecorded { get; init; } = "given";
    }

    [Fact]
    public void RecordedValuesFillWhatIsNotGivenAgain()
    {
        var recorded = new Options { Data = "b.txt", LearningRate = 0.5, Epochs = 7, Limit = 9, NotRecorded = "recorded" };
        var warnings = new List<string>();
        var resumed = RunOptions.Resume(recorded, new Options { Epochs = 20 }, new HashSet<string> { "--epochs" }, warnings.Add);
        Assert.Equal(new Options { Data = "b.txt", LearningRate = 0.5, Epochs = 20, Limit = 9, NotRecorded = "given" }, resumed);
        Assert.Empty(warnings);
    }

    [Fact]
    public void RefusedOptionsFailTogetherWarnedOnesWarnOnceFreeOnesPassSilently()
    {
        var recorded = new Options { Data = "b.txt", LearningRate = 0.5 };
        var warnings = new List<string>();
        var given = new Options { Data = "c.txt", LearningRate = 0.25, Limit = 4 };
        var e = Assert.Throws<ArgumentException>(() => RunOptions.Resume(recorded, given, new HashSet<string> { "--data", "--lr", "--limit" }, warnings.Add));
        Assert.Contains("--data c.txt (the run has b.txt)", e.Message);

        var resumed = RunOptions.Resume(recorded, given with { Data = "b.txt" }, new HashSet<string> { "--data", "--lr", "--limit" }, warnings.Add);
        Assert.Equal(0.25, resumed.LearningRate);
        Assert.Equal(4, resumed.Limit);
        Assert.Equal("warning: --lr changes from 0.5 to 0.25 on resume", Assert.Single(warnings.Distinct()));
    }

    [Fact]
    public void RunJsonRoundTripsAndItsDamageIsNamed()
    {
        using var dir = new TempDir();
        var options = new Options { Data = "x", LearningRate = 1e-3, Limit = null };
        RunOptions.Save(dir.Path, options);
        Assert.Equal(options with { NotRecorded = "given" }, RunOptions.Load<Options>(dir.Path));
        File.WriteAllText(Path.Combine(dir.Path, RunOptions.FileName), "{\"Data\": \"x\", \"Learn");
        var e = Assert.Throws<UnreadableCheckpointException>(() => RunOptions.Load<Options>(dir.Path));
        Assert.Equal(CheckpointProblem.Truncated, e.Problem);
        Assert.StartsWith(Path.Combine(dir.Path, RunOptions.FileName) + ": truncated", e.Message);
        Assert.Null(RunOptions.Load<Options>(Path.Combine(dir.Path, "nothing-here")));
        Assert.Equal("--resume DIR alone continues a run with the options recorded in DIR/run.json. Options given again: refused if changed: --data; "
            + "accepted with a warning: --lr; accepted: --epochs, --limit.", RunOptions.Describe<Options>());
    }
}
