using EquiSharp.Cli;
using EquiSharp.Cli.Commands;

namespace EquiSharp.Tests.Cli;

/// <summary>--max-cpu-hours: the shared loop's compute budget, one common option on every command that trains with it.</summary>
[Collection("rna-serial")] // redirects Console
public sealed class MaxCpuHoursOptionTests
{
    [Fact]
    public void EveryTrainingCommandOnTheSharedLoopHasIt()
    {
        var commands = new ICliCommand[] { new RnaCommand(), new ProteinCommand(), new RecCommand(), new DnaCommand(), new MnistCommand(), new CifarCommand() }
            .Select(c => c.Build()).ToDictionary(c => c.Name);
        foreach (var name in new[] { "rna", "protein", "rec", "dna", "mnist", "cifar" })
        {
            var train = commands[name].Subcommands.Single(s => s.Name == "train");
            Assert.True(train.Options.Any(o => o.Name == "--max-cpu-hours"), $"{name} train has no --max-cpu-hours");
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    public void ANonPositiveBudgetIsOneErrorLine(string hours)
    {
        var (code, _, err) = InProcessCli.Run(new DnaCommand(), "dna", "train", "--data", "nowhere", "--max-cpu-hours", hours);
        Assert.Equal(1, code);
        Assert.Contains($"--max-cpu-hours {hours}: expected a positive number.", err);
    }
}
