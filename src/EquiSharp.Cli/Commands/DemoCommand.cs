using System.CommandLine;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Training;
using Spectre.Console;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp demo</c>: the main job on a built-in default (synthetic RNA-like pairing, SCNN vs CNN).</summary>
public sealed class DemoCommand : ICliCommand
{
    public Command Build()
    {
        var outDir = new Option<string>("--out") { Description = "Output folder (checkpoints, heatmap).", DefaultValueFactory = _ => "equisharp-demo" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs per model.", DefaultValueFactory = _ => new RnaDemoOptions().Epochs };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Stop each model after this many steps (smoke runs)." };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var command = new Command("demo", "Train a small symmetric CNN and a matched CNN on synthetic RNA-like pairing data; print a table and write a heatmap PNG.")
            { outDir, epochs, maxSteps, seed, device, CommonOptions.Threads(), CommonOptions.Convolution() };
        command.SetAction(parse =>
        {
            var options = new RnaDemoOptions
            {
                OutDir = parse.GetValue(outDir)!, Epochs = parse.GetValue(epochs), MaxSteps = parse.GetValue(maxSteps),
                Seed = parse.GetValue(seed), Device = CommonOptions.ParseDevice(parse.GetValue(device)!),
            };
            var result = ProgressDisplay.Run(p => RnaDemo.Run(options, p));
            var table = new Table().AddColumns("model", "params", "train s", "steps", "test PPV", "test sen", "test acc", "asym");
            foreach (var m in result.Models)
                table.AddRow(m.Name, m.Parameters.ToString(), FormattableString.Invariant($"{m.TrainSeconds:0.0}"), m.Steps.ToString(),
                    FormattableString.Invariant($"{m.Test.Ppv:0.000}"), FormattableString.Invariant($"{m.Test.Sensitivity:0.000}"),
                    FormattableString.Invariant($"{m.Test.Accuracy:0.000}"), FormattableString.Invariant($"{m.OutputAsymmetry:0.0e+00}"));
            AnsiConsole.Write(table);
            Console.WriteLine($"heatmap: {Path.GetFullPath(result.HeatmapPath)}");
            return 0;
        });
        return command;
    }
}
