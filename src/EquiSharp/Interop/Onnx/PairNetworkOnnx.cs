using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Network;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Interop.Onnx;

/// <summary>
/// Writes a <see cref="PairNetwork"/> (RNA SCNN/CNN, protein contact SCNN/CNN) as the dense function it computes in
/// eval mode on one length per batch: BiLSTM (ONNX LSTM, gates reordered) → MatMul + Add → Concat with the input →
/// self-Cartesian product → 1×1 Conv (the generating kernel materialised) → BatchNormalization → activation →
/// [pair features concatenated] → multi-kernel stages (one Conv per branch, Concat, BatchNormalization, activation)
/// → the skip encoder of the input → head Conv → BatchNormalization → logits (B, L, L), and their Sigmoid. The masked
/// pair batch norm is its eval-mode BatchNormalization (with one length per batch there is nothing to mask); packed
/// maps and tiling are execution strategies of the same function, so the graph has neither.
/// </summary>
public static class PairNetworkOnnx
{
    /// <summary>Graph output names.</summary>
    public const string Logits = "logits", Probabilities = "probabilities";

    /// <summary>Writes the network into <paramref name="graph"/>; input names are <paramref name="inputName"/> and (with pair features) "pair_features".</summary>
    public static void Write(OnnxGraph graph, PairNetwork network, string inputName)
    {
        if (network.training) throw new InvalidOperationException("ONNX export: put the network in eval mode first (batch norm exports its running statistics).");
        var spec = network.Spec;
        var writer = new OnnxModuleWriter(graph);
        var parts = network.named_children().ToDictionary(c => c.name, c => c.module);
        var input = new OnnxValue(graph.Input(inputName, "batch", "length", spec.InputFeatures), 3);
        OnnxValue? pairs = spec.PairFeatures == 0 ? null
            : new OnnxValue(graph.Input("pair_features", "batch", spec.PairFeatures, "length", "length"), 4);

        var features = input;
        if (parts.TryGetValue("lstm", out var lstm))
        {
            var h = BidirectionalLstm(graph, (LSTM)lstm, input, "lstm");
            var dense = (Linear)parts["dense"];
            features = writer.Concat([writer.Linear(dense.weight!, dense.bias, h, "dense"), input], 2);
        }
        var y = Encoder(writer, (PairEncoder)parts["encoder"], features, spec.Activation, "encoder");
        if (pairs is { } p) y = writer.Concat([y, p], 1);
        var stages = ((ModuleList<PairConvStage>)parts["stages"]).ToList();
        for (int i = 0; i < stages.Count; i++) y = Stage(writer, stages[i], y, $"stages.{i}");
        var tail = new List<OnnxValue> { y };
        if (parts.TryGetValue("skip", out var skip)) tail.Add(Encoder(writer, (PairEncoder)skip, input, spec.Activation, "skip"));
        if (pairs is { } q) tail.Add(q);
        y = Stage(writer, (PairConvStage)parts["head"], writer.Concat(tail.ToArray(), 1), "head");

        string logits = spec.OutChannels == 1 ? graph.Node("Squeeze", [y.Name, graph.Int64s("channel_axis", 1)], hint: Logits) : graph.Node("Identity", [y.Name], hint: Logits);
        string probabilities = graph.Node("Sigmoid", [logits], hint: Probabilities);
        object[] map = spec.OutChannels == 1 ? ["batch", "length", "length"] : ["batch", spec.OutChannels, "length", "length"];
        graph.Output(logits, map);
        graph.Output(probabilities, map);
    }

    private static OnnxValue Encoder(OnnxModuleWriter writer, PairEncoder encoder, OnnxValue sequence, PairActivation activation, string name)
    {
        var parts = encoder.named_children().ToDictionary(c => c.name, c => c.module);
        var y = writer.Write(parts["conv"], writer.SelfCartesianProduct(sequence), $"{name}.conv");
        if (parts.TryGetValue("norm", out var norm)) y = writer.Write(norm, y, $"{name}.norm");
        return Activate(writer, encoder.Activation is null ? null : activation, y);
    }

    private static OnnxValue Stage(OnnxModuleWriter writer, PairConvStage stage, OnnxValue x, string name)
    {
        var y = writer.Concat(stage.Branches.Select((b, i) => writer.Write(b, x, $"{name}.convs.{i}")).ToArray(), 1);
        if (stage.Norm is { } norm) y = writer.Write(norm, y, $"{name}.norm");
        return Activate(writer, stage.Activation, y);
    }

    private static OnnxValue Activate(OnnxModuleWriter writer, PairActivation? activation, OnnxValue y) => activation switch
    {
        PairActivation.ReLU => writer.Unary("Relu", y),
        PairActivation.Sigmoid => writer.Unary("Sigmoid", y),
        _ => y,
    };

    /// <summary>
    /// A one-layer bidirectional batch-first LSTM as ONNX LSTM: (B, L, n) → (B, L, 2H), forward then reverse direction
    /// per position, as PyTorch concatenates them. PyTorch stacks the gate blocks i, f, g, o; ONNX expects i, o, f, c
    /// (c = PyTorch's g), so the blocks of every weight and bias are reordered [0, 3, 1, 2].
    /// </summary>
    public static OnnxValue BidirectionalLstm(OnnxGraph graph, LSTM lstm, OnnxValue x, string name)
    {
        var p = lstm.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        if (p.Keys.Any(k => k.Contains("_l1"))) throw new NotSupportedException($"ONNX export: '{name}' has more than one layer (EquiSharp's models use one).");
        long hidden = p["weight_hh_l0"].shape[1];
        using var scope = NewDisposeScope();
        Tensor Gates(Tensor w) => cat(new[] { 0, 3, 1, 2 }.Select(k => w.narrow(0, k * hidden, hidden)).ToArray(), 0);
        Tensor Both(string key) => stack(new[] { Gates(p[key + "_l0"]), Gates(p[key + "_l0_reverse"]) });
        var bias = stack(new[] { "", "_reverse" }.Select(d => cat(new[] { Gates(p["bias_ih_l0" + d]), Gates(p["bias_hh_l0" + d]) })).ToArray());
        string seqFirst = graph.Node("Transpose", [x.Name], [("perm", new long[] { 1, 0, 2 })]);        // (L, B, n)
        string y = graph.Node("LSTM", [seqFirst, graph.Initializer($"{name}.W", Both("weight_ih")), graph.Initializer($"{name}.R", Both("weight_hh")), graph.Initializer($"{name}.B", bias)],
            [("direction", "bidirectional"), ("hidden_size", hidden)], hint: name);                       // (L, 2, B, H)
        string batchFirst = graph.Node("Transpose", [y], [("perm", new long[] { 2, 0, 1, 3 })]);        // (B, L, 2, H)
        return new(graph.Node("Reshape", [batchFirst, graph.Int64s("shape_bl", 0, 0, -1)]), 3);         // (B, L, 2H)
    }
}
