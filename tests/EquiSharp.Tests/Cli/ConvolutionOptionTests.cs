using EquiSharp.Cli;
using EquiSharp.Cli.Commands;
using EquiSharp.Layers;

namespace EquiSharp.Tests.Cli;

/// <summary>--conv: on every command that builds or loads a pair network; every choice predicts the same structures.</summary>
[Collection("rna-serial")] // redirects Console and sets the process-wide default algorithm
public sealed class ConvolutionOptionTests
{
    private static readonly string[] PairNetworkCommands =
        { "rna train", "rna eval", "rna predict", "protein train", "protein eval", "protein predict", "protein maps", "demo" };

    [Fact]
    public void EveryCommandThatRunsAPairNetworkHasIt()
    {
        var commands = new ICliCommand[] { new RnaCommand(), new ProteinCommand(), new DemoCommand() }.Select(c => c.Build()).ToList();
        var all = commands.SelectMany(c => c.Subcommands.Select(s => ($"{c.Name} {s.Name}", s)).Append((c.Name, c))).ToDictionary(p => p.Item1, p => p.Item2);
        foreach (var name in PairNetworkCommands)
            Assert.True(all[name].Options.Any(o => o.Name == "--conv"), $"{name} has no --conv");
    }

    [Fact]
    public void DirectAndFourierConvolutionsPredictTheSameStructures()
    {
        const string seq = "GGGAAAUCCGCGAUUUCGCGGAUUUCCCGGGAAAUCCGCGAUUUCGCGGAUUUCCCAUGGCUAGCUAGGAUCC";
        using var dir = new TempDir();
        try
        {
            var outputs = new[] { "direct", "fourier" }.Select(conv =>
            {
                var (code, stdout, err) = InProcessCli.Run(new RnaCommand(), "rna", "predict", "--seq", seq, "--conv", conv, "--out", Path.Combine(dir.Path, conv));
                Assert.True(code == 0, err);
                Assert.Equal(ConvolutionAlgorithms.Parse(conv), ConvolutionAlgorithms.Default);
                return stdout.Split('\n').Where(l => !l.StartsWith("wrote ")).ToArray();
            }).ToArray();
            Assert.Contains(outputs[0], l => l.Contains('('));
            Assert.Equal(outputs[0], outputs[1]);
        }
        finally { ConvolutionAlgorithms.Default = ConvolutionAlgorithm.Auto; }
    }

    [Fact]
    public void AnUnknownAlgorithmIsAParseError()
    {
        var (code, _, err) = InProcessCli.Run(new RnaCommand(), "rna", "predict", "--seq", "GGGAAACCC", "--conv", "winograd");
        Assert.NotEqual(0, code);
        Assert.Contains("--conv: unknown convolution algorithm 'winograd' (auto, direct or fourier).", err);
        Assert.Equal(ConvolutionAlgorithm.Auto, ConvolutionAlgorithms.Default);
    }
}
