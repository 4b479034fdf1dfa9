using EquiSharp.Applications.Dna.Models;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Applications.Protein.Models;
using EquiSharp.Applications.Rna;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Interop;
using EquiSharp.Interop.Onnx;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Tests.Layers.ReverseComplement;
using Google.Protobuf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Interop;

/// <summary>
/// Every exportable model kind, exported to ONNX and run in ONNX Runtime: the logits agree with TorchSharp's
/// (max|ORT − TorchSharp| / max|TorchSharp| ≤ 1e-4) on random inputs of several lengths and batch sizes.
/// </summary>
public sealed class OnnxExportTests
{
    private const double Tolerance = 1e-4;

    /// <summary>Batch norm with random affine parameters and running statistics, so no layer is an identity (eval mode after).</summary>
    internal static void RandomiseNorms(nn.Module model, int seed)
    {
        var g = new Generator((ulong)seed);
        using var grad = no_grad();
        foreach (var m in model.modules())
            switch (m)
            {
                case PairBatchNorm2d bn:
                    bn.Weight.copy_(rand(bn.Weight.shape, generator: g).add(KeptScalar.Of(0.5), KeptScalar.One)); bn.Bias.copy_(randn(bn.Bias.shape, generator: g).mul(KeptScalar.Of(0.2)));
                    bn.RunningMean.copy_(randn(bn.RunningMean.shape, generator: g).mul(KeptScalar.Of(0.2))); bn.RunningVar.copy_(rand(bn.RunningVar.shape, generator: g).add(KeptScalar.Of(0.5), KeptScalar.One));
                    break;
                case BatchNorm bn:
                    bn.weight!.copy_(rand(bn.weight.shape, generator: g).add(KeptScalar.Of(0.5), KeptScalar.One)); bn.bias!.copy_(randn(bn.bias.shape, generator: g).mul(KeptScalar.Of(0.2)));
                    bn.running_mean!.copy_(randn(bn.running_mean.shape, generator: g).mul(KeptScalar.Of(0.2))); bn.running_var!.copy_(rand(bn.running_var.shape, generator: g).add(KeptScalar.Of(0.5), KeptScalar.One));
                    break;
            }
        model.eval();
    }

    internal static ExportableModel Wrap(ModelFamily family, nn.Module model, string kind) => new()
    {
        Family = family, Model = model, Kind = kind, Symmetry = "test", TrainingData = "test", Weights = "memory",
    };

    /// <summary>Exports to a temporary file and opens it in ONNX Runtime.</summary>
    internal static OnnxModelRunner Export(ExportableModel model, TempDir dir, string file = "model.onnx")
    {
        var result = OnnxExport.Save(model, Path.Combine(dir.Path, file));
        return new OnnxModelRunner(result.Path, threads: 1);
    }

    private static (float[], int[]) Input(Tensor t) => (t.contiguous().data<float>().ToArray(), t.shape.Select(s => (int)s).ToArray());

    private static double RelativeGap(float[] ort, Tensor reference)
    {
        var r = reference.contiguous().data<float>().ToArray();
        Assert.Equal(r.Length, ort.Length);
        double scale = r.Max(v => Math.Abs(v)), gap = r.Zip(ort, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(scale > 1e-3, $"reference logits are ~0 (max {scale}); the comparison would be vacuous");
        return gap / scale;
    }

    private static Tensor OneHotRna(long batch, long length, Generator g) =>
        nn.functional.one_hot(randint(0, RnaFeatures.Classes, new[] { batch, length }, generator: g), RnaFeatures.Classes).to(float32);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RnaModelInOnnxRuntimeMatchesTorchSharp(bool symmetric)
    {
        manual_seed(5);
        using var model = new RnaPairModel(RnaModelConfig.Small, symmetric);
        RandomiseNorms(model, 6);
        using var dir = new TempDir();
        using var runner = Export(Wrap(ModelFamily.Rna, model, model.GetName()), dir);
        var g = new Generator(7);
        foreach (var (batch, length) in new[] { (1L, 1L), (2L, 9L), (1L, 24L), (3L, 31L) })
        {
            using var scope = NewDisposeScope();
            var x = OneHotRna(batch, length, g);
            var (values, shape) = Input(x);
            var (logits, outShape) = runner.Run(PairNetworkOnnx.Logits, ("onehot", values, shape));
            Assert.Equal(new[] { (int)batch, (int)length, (int)length }, outShape);
            Tensor reference;
            using (no_grad()) reference = model.forward(x);
            double gap = RelativeGap(logits, reference);
            Assert.True(gap <= Tolerance, $"L={length} B={batch}: relative gap {gap:E2}");
            var (probabilities, _) = runner.Run(PairNetworkOnnx.Probabilities, ("onehot", values, shape));
            Assert.True(RelativeGap(probabilities, sigmoid(reference)) <= Tolerance);
        }
    }

    /// <summary>A gate-order slip (PyTorch i,f,g,o written as ONNX i,o,f,c unchanged) must be caught: the LSTM alone, compared directly.</summary>
    [Fact]
    public void BidirectionalLstmMatchesTorchSharpWithDistinctGates()
    {
        manual_seed(8);
        using var lstm = nn.LSTM(5, 6, bidirectional: true, batchFirst: true);
        var graph = new OnnxGraph("lstm");
        var y = PairNetworkOnnx.BidirectionalLstm(graph, lstm, new OnnxValue(graph.Input("x", "batch", "length", 5), 3), "lstm");
        graph.Output(y.Name, "batch", "length", 12);
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "lstm.onnx");
        File.WriteAllBytes(path, graph.Build([], "test").ToByteArray());
        using var runner = new OnnxModelRunner(path, threads: 1);
        var x = randn(2, 11, 5, generator: new Generator(9));
        var (values, shape) = Input(x);
        var (ort, _) = runner.Run(y.Name, ("x", values, shape));
        Tensor reference;
        using (no_grad()) reference = lstm.forward(x).Item1;
        Assert.True(RelativeGap(ort, reference) <= Tolerance);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ProteinContactModelInOnnxRuntimeMatchesTorchSharp(bool symmetric)
    {
        manual_seed(10);
        using var model = new ContactModel(symmetric);
        RandomiseNorms(model, 11);
        using var dir = new TempDir();
        using var runner = Export(Wrap(ModelFamily.Protein, model, model.GetName()), dir);
        var g = new Generator(12);
        foreach (var length in new[] { 6L, 13L })
        {
            using var scope = NewDisposeScope();
            var features = randn(new[] { 2, length, ContactModel.InputFeatures }, generator: g);
            var pairs = randn(new[] { 2, ContactModel.PairFeatureNames.Length, length, length }, generator: g);
            pairs = (pairs.add(pairs.transpose(2, 3), KeptScalar.One)).div(KeptScalar.Of(2));
            var (f, fs) = Input(features);
            var (p, ps) = Input(pairs);
            var (logits, _) = runner.Run(PairNetworkOnnx.Logits, ("features", f, fs), ("pair_features", p, ps));
            Tensor reference;
            using (no_grad()) reference = model.Logits(features, pairs, null);
            double gap = RelativeGap(logits, reference);
            Assert.True(gap <= Tolerance, $"L={length}: relative gap {gap:E2}");
        }
    }

    [Theory]
    [InlineData("z2cnn")]
    [InlineData("p4cnn")]
    [InlineData("p4mcnn")]
    public void PlanarImageClassifierInOnnxRuntimeMatchesTorchSharp(string kind)
    {
        manual_seed(13);
        using var model = new PlanarCnn(PlanarCnnSpec.Preset(kind) with { Width = 3 });
        RandomiseNorms(model, 14);
        using var dir = new TempDir();
        using var runner = Export(Wrap(ModelFamily.Image, model, kind), dir);
        var g = new Generator(15);
        foreach (var (batch, size) in new[] { (1L, 28L), (3L, 28L), (2L, 30L) })
        {
            using var scope = NewDisposeScope();
            var x = rand(new[] { batch, 1, size, size }, generator: g);
            var (values, shape) = Input(x);
            var (scores, outShape) = runner.Run("scores", ("images", values, shape));
            Assert.Equal(new[] { (int)batch, 10 }, outShape);
            Tensor reference;
            using (no_grad()) reference = model.forward(x);
            double gap = RelativeGap(scores, reference);
            Assert.True(gap <= Tolerance, $"{kind} {size}×{size}: relative gap {gap:E2}");
        }
    }

    [Theory]
    [InlineData("rc")]
    [InlineData("standard")]
    public void DnaClassifierInOnnxRuntimeMatchesTorchSharp(string kind)
    {
        manual_seed(16);
        using var model = new DnaConvNet(DnaModelSpec.Simulated(kind, 4, new[] { "a", "b" }, length: 60));
        RandomiseNorms(model, 17);
        using var dir = new TempDir();
        using var runner = Export(Wrap(ModelFamily.Dna, model, kind), dir);
        foreach (var batch in new[] { 1L, 5L })
        {
            using var scope = NewDisposeScope();
            var x = ReverseComplementLayerTests.OneHot(batch, 60, new Generator(18 + (ulong)batch));
            var (values, shape) = Input(x);
            var (logits, _) = runner.Run("logits", ("onehot", values, shape));
            Tensor reference;
            using (no_grad()) reference = model.forward(x);
            double gap = RelativeGap(logits, reference);
            Assert.True(gap <= Tolerance, $"{kind} B={batch}: relative gap {gap:E2}");
        }
    }

    [Fact]
    public void ExportedFileCarriesIrVersionOpsetSymbolicAxesAndMetadata()
    {
        manual_seed(19);
        using var model = new RnaPairModel(RnaModelConfig.Small, symmetric: true);
        model.eval();
        var exportable = Wrap(ModelFamily.Rna, model, model.GetName());
        var proto = OnnxExport.ToModel(exportable);
        Assert.Equal(8, proto.IrVersion);
        Assert.Equal(17, proto.OpsetImport.Single().Version);
        var input = proto.Graph.Input.Single();
        Assert.Equal("onehot", input.Name);
        Assert.Equal(new[] { "batch", "length" }, input.Type.TensorType.Shape.Dim.Take(2).Select(d => d.DimParam));
        var meta = proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("RnaScnn", meta["model_kind"]);
        Assert.Equal(model.ParameterCount.ToString(System.Globalization.CultureInfo.InvariantCulture), meta["free_parameters"]);
        Assert.True(long.Parse(meta["dense_parameters"], System.Globalization.CultureInfo.InvariantCulture) > model.ParameterCount, "the SCNN's dense form has more values than its free parameters");
        foreach (var key in new[] { "equisharp_version", "symmetry", "training_data" }) Assert.False(string.IsNullOrEmpty(meta[key]), key);
        // the tied weights are materialised: no initialiser is a tied θ vector, and the initialisers hold the dense count
        long stored = proto.Graph.Initializer.Where(t => t.DataType == 1).Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b));
        Assert.True(stored >= long.Parse(meta["dense_parameters"], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void TrainingModeIsRefused()
    {
        using var model = new RnaPairModel(RnaModelConfig.Small, symmetric: true);
        model.train();
        var e = Assert.Throws<InvalidOperationException>(() => OnnxExport.ToModel(Wrap(ModelFamily.Rna, model, "RnaScnn")));
        Assert.Contains("eval mode", e.Message);
    }
}
