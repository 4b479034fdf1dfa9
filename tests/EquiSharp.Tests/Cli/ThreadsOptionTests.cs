using EquiSharp.Cli;
using EquiSharp.Cli.Commands;

namespace EquiSharp.Tests.Cli;

/// <summary>--threads: one common option on every command that trains or evaluates, checked where it is applied.</summary>
[Collection("rna-serial")] // redirects Console
public sealed class ThreadsOptionTests
{
    /// <summary>The commands that train or evaluate a model, as "group sub" (or a top-level name).</summary>
    private static readonly string[] TrainingAndEvaluation =
    {
        "rna train", "rna eval", "rna predict", "protein train", "protein eval", "protein predict", "protein maps", "rec train", "rec eval", "rec recommend",
        "dna train", "dna eval", "dna check-rc", "dna filters", "mnist train", "mnist eval", "sets demo", "demo",
    };

    [Fact]
    public void EveryTrainingAndEvaluationCommandHasIt()
    {
        var commands = new ICliCommand[] { new RnaCommand(), new ProteinCommand(), new RecCommand(), new DnaCommand(), new MnistCommand(), new SetsCommand(), new DemoCommand() }
            .Select(c => c.Build()).ToList();
        var all = commands.SelectMany(c => c.Subcommands.Select(s => ($"{c.Name} {s.Name}", s)).Append((c.Name, c))).ToDictionary(p => p.Item1, p => p.Item2);
        foreach (var name in TrainingAndEvaluation)
            Assert.True(all[name].Options.Any(o => o.Name == "--threads"), $"{name} has no --threads");
    }

    [Fact]
    public void ANegativeCountIsOneErrorLine()
    {
        var (code, _, err) = InProcessCli.Run(new SetsCommand(), "sets", "demo", "--threads", "-1");
        Assert.Equal(1, code);
        Assert.Equal("error: --threads -1: expected 0 (torch's default) or a positive number.", err.Trim());
    }
}
