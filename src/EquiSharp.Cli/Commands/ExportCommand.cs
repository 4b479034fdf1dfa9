using System.CommandLine;
using System.Globalization;
using EquiSharp.Interop;
using EquiSharp.Interop.Onnx;
using EquiSharp.Interop.Torch;

namespace EquiSharp.Cli.Commands;

/// <summary>
/// <c>equisharp export onnx|torch</c>: trained models out of the library: an ONNX graph for ONNX Runtime, or dense
/// PyTorch weights (<see cref="ImportCommand"/> brings dense PyTorch weights back in).
/// </summary>
public sealed class ExportCommand : ICliCommand
{
    public Command Build() => new("export", "Export a trained model: an ONNX graph (dense, IR 8, opset 17) or dense PyTorch weights (safetensors).")
    {
        Onnx(), Torch(),
    };

    private static Option<string> ModelDir() => new("--model") { Description = "Model directory written by a train command (rna, protein, mnist, dna).", Required = true };
    private static Option<bool> AllowPickle() => new("--allow-pickle") { Description = "Allow a pickled .pt/.pth file (it can carry code; only tensors are read from it). Default: safetensors only." };

    private static Command Onnx()
    {
        var model = ModelDir();
        var output = new Option<string>("--out") { Description = "The .onnx file to write.", Required = true };
        var command = new Command("onnx", "Export the model as an ONNX graph with the tied weights materialised (ONNX Runtime, any language). Last line: key=value summary.") { model, output };
        command.SetAction(parse =>
        {
            using var loaded = ExportableModel.Load(parse.GetValue(model)!, TorchSharp.torch.CPU);
            var result = OnnxExport.Save(loaded, parse.GetValue(output)!);
            Console.WriteLine($"{loaded.Kind} from {loaded.Weights}");
            Console.WriteLine($"inputs:  {string.Join("; ", result.Inputs)}");
            Console.WriteLine($"outputs: {string.Join("; ", result.Outputs)}");
            foreach (var (k, v) in result.Metadata) Console.WriteLine($"  {k}: {v}");
            Console.WriteLine(FormattableString.Invariant(
                $"kind={loaded.Kind} free_parameters={loaded.FreeParameterCount} dense_parameters={loaded.DenseParameterCount} bytes={result.Bytes} onnx={Path.GetFullPath(result.Path)}"));
            return 0;
        });
        return command;
    }

    private static Command Torch()
    {
        var model = ModelDir();
        model.Description = "RNA model directory written by 'rna train'.";
        var output = new Option<string>("--out") { Description = "The state-dict file to write (.safetensors; .pt needs --allow-pickle).", Required = true };
        var allow = AllowPickle();
        var command = new Command("torch", "Write an RNA model's dense weights with the layer names of the PyTorch module RnaDense, so load_state_dict works there.") { model, output, allow };
        command.SetAction(parse =>
        {
            int count = RnaTorchStateDict.SaveFile(parse.GetValue(model)!, parse.GetValue(output)!, TorchSharp.torch.CPU, parse.GetValue(allow));
            Console.WriteLine(FormattableString.Invariant($"tensors={count} file={Path.GetFullPath(parse.GetValue(output)!)}"));
            return 0;
        });
        return command;
    }
}
