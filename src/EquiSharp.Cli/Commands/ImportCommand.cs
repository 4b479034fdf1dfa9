using System.CommandLine;
using System.Globalization;
using EquiSharp.Interop.Torch;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp import torch</c>: dense PyTorch (RnaDense) weights into a tied RNA model directory.</summary>
public sealed class ImportCommand : ICliCommand
{
    public Command Build()
    {
        var weights = new Option<string>("--weights") { Description = "A dense RnaDense state dict (.safetensors; .pt/.pth need --allow-pickle).", Required = true };
        var like = new Option<string>("--like") { Description = "A model directory whose model.json gives the architecture (e.g. one written by 'rna train').", Required = true };
        var output = new Option<string>("--out") { Description = "Model directory to write (model.json and best/).", Required = true };
        var allow = new Option<bool>("--allow-pickle") { Description = "Allow a pickled file (it can carry code; only tensors are read from it)." };
        var torch = new Command("torch", "Load dense PyTorch RNA weights; tied kernels are projected onto the tied space (least squares). Last line: the largest relative projection residual.")
            { weights, like, output, allow };
        torch.SetAction(parse =>
        {
            var report = RnaTorchStateDict.ImportFile(parse.GetValue(weights)!, parse.GetValue(like)!, parse.GetValue(output)!, TorchSharp.torch.CPU, parse.GetValue(allow));
            foreach (var (name, residual) in report.Residuals)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: residual {residual:0.000000}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tied_layers={report.Residuals.Count} max_residual={report.MaxResidual:0.000000} model={Path.GetFullPath(parse.GetValue(output)!)}"));
            return 0;
        });
        return new Command("import", "Load weights trained elsewhere into an EquiSharp model directory.") { torch };
    }
}
