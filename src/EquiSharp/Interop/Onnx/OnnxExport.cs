using EquiSharp.Applications.Dna.Models;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Training;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Interop.Onnx;

/// <summary>What <see cref="OnnxExport.Save"/> wrote.</summary>
/// <param name="Path">The .onnx file.</param>
/// <param name="Inputs">Graph inputs with their shapes, e.g. "onehot (batch, length, 5)".</param>
/// <param name="Outputs">Graph outputs with their shapes.</param>
/// <param name="Metadata">The <c>metadata_props</c> written.</param>
/// <param name="Bytes">File size.</param>
public sealed record OnnxExportResult(string Path, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, string> Metadata, long Bytes);

/// <summary>
/// ONNX export of a trained model (IR 8, opset 17): the dense function it computes in eval mode, with the tied weights
/// materialised (<see cref="OnnxModuleWriter"/>), named inputs and outputs with symbolic batch and length axes, and the
/// model's description in <c>metadata_props</c>. RNA and protein pair networks: <see cref="PairNetworkOnnx"/>; p4/p4m
/// (and Z2) image classifiers and reverse-complement (and standard) DNA classifiers: their layers' dense forms.
/// Decoding (the RNA greedy decoder) stays outside the graph.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX model of a loaded model (which must be in eval mode).</summary>
    public static ModelProto ToModel(ExportableModel model)
    {
        if (model.Model.training) throw new InvalidOperationException("ONNX export: the model must be in eval mode.");
        var graph = new OnnxGraph(model.Kind);
        string notes;
        switch (model.Family)
        {
            case ModelFamily.Rna:
                PairNetworkOnnx.Write(graph, (PairNetwork)model.Model, "onehot");
                notes = "input onehot (batch, length, 5): A, C, G, U, other; outputs logits and probabilities (batch, length, length). " +
                        "One length per batch (no padding masks). Decoding a structure (EquiSharp's greedy decoder) is not part of the graph.";
                break;
            case ModelFamily.Protein:
                PairNetworkOnnx.Write(graph, (PairNetwork)model.Model, "features");
                notes = "inputs features (batch, length, 45) and pair_features (batch, 3, length, length) as EquiSharp's protein feature builder writes them; outputs contact logits and probabilities (batch, length, length).";
                break;
            case ModelFamily.Image:
                WriteImageClassifier(graph, (PlanarCnn)model.Model);
                notes = "input images (batch, channels, height, width), height = width with (size - 4) even (28 for MNIST); outputs class scores and softmax probabilities (batch, classes).";
                break;
            case ModelFamily.Dna:
                WriteDnaClassifier(graph, (DnaConvNet)model.Model);
                notes = "input onehot (batch, 4, length) in ACGT order at the trained length; outputs logits and sigmoid probabilities (batch, tasks).";
                break;
            default:
                throw new NotSupportedException($"ONNX export: no exporter for {model.Family} models.");
        }
        return graph.Build(model.Metadata(notes), model.Metadata()["equisharp_version"]);
    }

    /// <summary>Exports to <paramref name="path"/> (written under a temporary name, then renamed into place).</summary>
    public static OnnxExportResult Save(ExportableModel model, string path)
    {
        var proto = ToModel(model);
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string temporary = path + ".tmp";
        using (var stream = File.Create(temporary)) proto.WriteTo(stream);
        File.Move(temporary, path, overwrite: true);
        return new OnnxExportResult(path, proto.Graph.Input.Select(Describe).ToArray(), proto.Graph.Output.Select(Describe).ToArray(),
            proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value), new FileInfo(path).Length);
    }

    private static void WriteImageClassifier(OnnxGraph graph, PlanarCnn model)
    {
        var writer = new OnnxModuleWriter(graph);
        var x = new OnnxValue(graph.Input("images", "batch", model.Spec.InputChannels, "height", "width"), 4);
        var scores = writer.Write((nn.Module)model, x, "body");
        Outputs(graph, graph.Node("Identity", [scores.Name], hint: "scores"), graph.Node("Softmax", [scores.Name], [("axis", 1L)], "probabilities"), model.Spec.Classes);
    }

    private static void WriteDnaClassifier(OnnxGraph graph, DnaConvNet model)
    {
        var writer = new OnnxModuleWriter(graph);
        var y = new OnnxValue(graph.Input("onehot", "batch", 4, model.Spec.SequenceLength), 3);
        foreach (var (name, part) in model.named_children()) y = writer.Write(part, y, name);   // convolutions, pool, head
        Outputs(graph, graph.Node("Identity", [y.Name], hint: "logits"), graph.Node("Sigmoid", [y.Name], hint: "probabilities"), model.Spec.TaskNames.Length);
    }

    private static void Outputs(OnnxGraph graph, string scores, string probabilities, long classes)
    {
        graph.Output(scores, "batch", classes);
        graph.Output(probabilities, "batch", classes);
    }

    private static string Describe(ValueInfoProto v) =>
        $"{v.Name} ({string.Join(", ", v.Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)))})";
}
