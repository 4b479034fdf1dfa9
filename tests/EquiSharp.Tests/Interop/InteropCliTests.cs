using System.Globalization;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Inference;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Cli;
using EquiSharp.Cli.Commands;
using EquiSharp.Interop.Onnx;
using EquiSharp.Interop.Torch;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Tests.Cli;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Applications.Images.Training;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Training;
using TorchSharp;

namespace EquiSharp.Tests.Interop;

/// <summary>
/// From a trained model directory on the command line: export onnx, rna predict --engine onnx (the same structures
/// as the TorchSharp engine), export torch and import torch (the round trip lands back on the same model).
/// </summary>
[Collection("rna-serial")]
public sealed class InteropCliTests
{
    private static (int Code, string Out, string Err) Run(ICliCommand command, params string[] args) => InProcessCli.Run(command, args);

    /// <summary>
    /// A threshold in the widest gap among the top few percent of the off-diagonal probabilities (i &lt; j), so both
    /// engines decode pairs and no value sits near it.
    /// </summary>
    private static float ThresholdWithPairs(float[] p, int length)
    {
        var upper = Enumerable.Range(0, length).SelectMany(i => Enumerable.Range(i + 1, length - i - 1).Select(j => p[i * length + j]));
        var sorted = upper.Distinct().OrderByDescending(v => v).Take(Math.Max(4, length * length / 50)).ToArray();
        int best = Enumerable.Range(1, sorted.Length - 2).MaxBy(i => sorted[i] - sorted[i + 1]);
        return (sorted[best] + sorted[best + 1]) / 2;
    }

    [Fact]
    public void ExportedModelPredictsTheSameStructuresAndRoundTripsThroughPyTorchWeights()
    {
        using var dir = new TempDir();
        // a model directory as 'rna train' leaves it (model.json naming its training file, best/), with non-trivial batch norm
        string model = Path.Combine(dir.Path, "scnn");
        torch.manual_seed(40);
        using (var fresh = new RnaPairModel(RnaModelConfig.Small, symmetric: true))
        {
            OnnxExportTests.RandomiseNorms(fresh, 41);
            (RnaModelSpec.From("scnn", RnaModelConfig.Small) with { Parameters = fresh.ParameterCount, Training = new() { ["train"] = "/data/rna/train.fa" } }).Save(model);
            Checkpoint.Save(model, fresh, null, new TrainingState(), Checkpoint.BestName);
        }
        var r = Run(new RnaCommand(), "rna", "predict", "--model", model, "--seq", "GGGAAACCC", "--out", Path.Combine(dir.Path, "smoke"));
        Assert.True(r.Code == 0, r.Err);   // the directory is one the RNA commands read

        string onnx = Path.Combine(dir.Path, "scnn.onnx");
        r = Run(new ExportCommand(), "export", "onnx", "--model", model, "--out", onnx);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("kind=RnaScnn", r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        Assert.Contains("training_data: train.fa", r.Out);

        const string sequence = "GGGAAACUUCGGUUUCCCAGCAUCGAUGCUAAGGCCUUAGCCG";
        float[] torchProbabilities, onnxProbabilities;
        using (var torchEngine = TorchSharpRnaEngine.Load(model, torch.CPU, new TiledInferenceOptions()))
            torchProbabilities = torchEngine.Probabilities(sequence);
        using (var onnxEngine = new OnnxRnaEngine(onnx))
        {
            Assert.True(onnxEngine.Symmetric);
            onnxProbabilities = onnxEngine.Probabilities(sequence);
        }
        double gap = torchProbabilities.Zip(onnxProbabilities, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(gap <= 1e-4 * torchProbabilities.Max(), $"tiled TorchSharp vs ONNX Runtime: {gap:E2}");

        string threshold = ThresholdWithPairs(torchProbabilities, sequence.Length).ToString("R", CultureInfo.InvariantCulture);
        string DotBracket(params string[] engine)
        {
            var p = Run(new RnaCommand(), ["rna", "predict", .. engine, "--seq", sequence, "--threshold", threshold, "--out", Path.Combine(dir.Path, "pred-" + engine.Length)]);
            Assert.True(p.Code == 0, p.Err);
            return p.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[2];
        }
        string viaTorch = DotBracket("--model", model);
        string viaOnnx = DotBracket("--engine", "onnx", "--model", onnx);
        Assert.Contains("(", viaTorch);
        Assert.Equal(viaTorch, viaOnnx);

        // dense PyTorch weights out and back in: the SCNN's dense kernels are already tied, so the projection residual is ~0
        string weights = Path.Combine(dir.Path, "scnn.safetensors"), imported = Path.Combine(dir.Path, "imported");
        r = Run(new ExportCommand(), "export", "torch", "--model", model, "--out", weights);
        Assert.True(r.Code == 0, r.Err);
        r = Run(new ImportCommand(), "import", "torch", "--weights", weights, "--like", model, "--out", imported);
        Assert.True(r.Code == 0, r.Err);
        string last = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        double residual = double.Parse(last.Split(' ').Single(t => t.StartsWith("max_residual=")).Split('=')[1], CultureInfo.InvariantCulture);
        Assert.True(residual <= 1e-6, last);
        Assert.Equal(viaTorch, DotBracket("--model", imported, "--engine", "torchsharp"));

        // a pickle is read or written only on request
        r = Run(new ExportCommand(), "export", "torch", "--model", model, "--out", Path.Combine(dir.Path, "scnn.pt"));
        Assert.Equal(1, r.Code);
        Assert.Contains("--allow-pickle", r.Err);
        r = Run(new RnaCommand(), "rna", "predict", "--engine", "onnx", "--model", Path.Combine(dir.Path, "missing.onnx"), "--seq", "GGGAAACCC");
        Assert.Equal(1, r.Code);
        Assert.StartsWith("error: ", r.Err);
        r = Run(new RnaCommand(), "rna", "predict", "--engine", "onnx", "--model", model, "--seq", "GGGAAACCC");   // a directory, not the .onnx file
        Assert.Equal(1, r.Code);
        Assert.StartsWith("error: ", r.Err);
        r = Run(new ExportCommand(), "export", "onnx", "--model", Path.Combine(dir.Path, "pred-2"), "--out", Path.Combine(dir.Path, "x.onnx"));
        Assert.Equal(1, r.Code);
        Assert.Contains("no model description", r.Err);
    }

    [Fact]
    public void P4ImageModelDirectoryExportsAndMatchesInOnnxRuntime()
    {
        using var dir = new TempDir();
        // a run directory as 'mnist train' leaves it: model.json, train.json naming the data, best/
        string run = Path.Combine(dir.Path, "run"), onnx = Path.Combine(dir.Path, "p4.onnx");
        var spec = PlanarCnnSpec.Preset("p4cnn") with { Width = 3 };
        torch.manual_seed(42);
        using (var fresh = spec.Build())
        {
            OnnxExportTests.RandomiseNorms(fresh, 43);
            Directory.CreateDirectory(run);
            spec.Save(run);
            File.WriteAllText(Path.Combine(run, ImageTrainSettings.FileName), "{\"DataPath\": \"/data/mnist/rm.bin\"}");
            Checkpoint.Save(run, fresh, null, new TrainingState(), Checkpoint.BestName);
        }
        var r = Run(new ExportCommand(), "export", "onnx", "--model", run, "--out", onnx);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("kind=P4CNN", r.Out);
        Assert.Contains("training_data: rm.bin", r.Out);

        var (model, _) = EquiSharp.Applications.Images.Training.ImageTrainRun.LoadTrained(run, torch.CPU);
        using (model)
        using (var runner = new OnnxModelRunner(onnx, threads: 1))
        {
            var x = torch.rand(3, 1, 28, 28, generator: new torch.Generator(70));
            var (scores, _) = runner.Run("scores", ("images", x.data<float>().ToArray(), new[] { 3, 1, 28, 28 }));
            float[] reference;
            using (torch.no_grad()) reference = model.forward(x).data<float>().ToArray();
            double gap = reference.Zip(scores, (a, b) => Math.Abs(a - b)).Max() / reference.Max(v => Math.Abs(v));
            Assert.True(gap <= 1e-4, $"relative gap {gap:E2}");
        }
    }
}
