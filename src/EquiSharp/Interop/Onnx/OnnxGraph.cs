using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace EquiSharp.Interop.Onnx;

/// <summary>
/// A small builder over the ONNX protobuf messages (OnnxSharp's generated <c>ModelProto</c> family): named inputs and
/// outputs with symbolic axes, float initialisers copied from tensors, nodes with attributes, and a model written as
/// ONNX IR version <see cref="IrVersion"/> with the default-domain opset <see cref="Opset"/> — what the ONNX checker of
/// Debian's <c>python3-onnx</c> 1.12 accepts and ONNX Runtime runs.
/// </summary>
public sealed class OnnxGraph
{
    /// <summary>ONNX IR version written (8: ONNX 1.10 and later).</summary>
    public const long IrVersion = 8;
    /// <summary>Opset of the default domain the nodes use.</summary>
    public const long Opset = 17;

    private readonly GraphProto graph = new();
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private int counter;

    /// <param name="name">Graph name (the model kind, e.g. "RnaScnn").</param>
    public OnnxGraph(string name) { graph.Name = name; }

    /// <summary>A fresh value name starting with <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        string name = hint;
        while (!names.Add(name)) name = $"{hint}_{++counter}";
        return name;
    }

    /// <summary>Declares a float graph input; a dimension is a size (long) or a symbolic axis name (string).</summary>
    public string Input(string name, params object[] dims)
    {
        string fresh = Fresh(name);
        graph.Input.Add(ValueInfo(fresh, dims));
        return fresh;
    }

    /// <summary>Declares <paramref name="value"/> as a float graph output under its own name.</summary>
    public void Output(string value, params object[] dims) => graph.Output.Add(ValueInfo(value, dims));

    /// <summary>A float initialiser holding a copy of <paramref name="tensor"/> (any device, converted to float32).</summary>
    public string Initializer(string hint, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var t = tensor.detach().to(ScalarType.Float32).cpu().contiguous();
        var proto = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(t.shape);
        var bytes = new byte[t.numel() * sizeof(float)];
        Buffer.BlockCopy(t.data<float>().ToArray(), 0, bytes, 0, bytes.Length);
        proto.RawData = ByteString.CopyFrom(bytes);   // raw data is little-endian float32, like every platform .NET runs on here
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>An int64 initialiser (shapes, axes, indices).</summary>
    public string Int64s(string hint, params long[] values)
    {
        var proto = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    /// <param name="op">ONNX operator (default domain).</param>
    /// <param name="inputs">Input value names ("" for an omitted optional input).</param>
    /// <param name="attributes">(name, value) pairs: long, long[], float, string.</param>
    /// <param name="hint">Name hint of the output.</param>
    public string Node(string op, string[] inputs, (string Name, object Value)[]? attributes = null, string? hint = null) =>
        Node(op, inputs, 1, attributes, hint)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Node(string op, string[] inputs, int outputs, (string Name, object Value)[]? attributes = null, string? hint = null)
    {
        var node = new NodeProto { OpType = op, Name = Fresh((hint ?? op.ToLowerInvariant()) + "_node") };
        node.Input.AddRange(inputs);
        var outs = Enumerable.Range(0, outputs).Select(i => Fresh(hint ?? op.ToLowerInvariant())).ToArray();
        node.Output.AddRange(outs);
        foreach (var (name, value) in attributes ?? [])
            node.Attribute.Add(Attribute(name, value));
        graph.Node.Add(node);
        return outs;
    }

    /// <summary>The model: IR 8, opset 17, producer EquiSharp, <paramref name="metadata"/> in <c>metadata_props</c>.</summary>
    public ModelProto Build(IEnumerable<KeyValuePair<string, string>> metadata, string producerVersion)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = "EquiSharp", ProducerVersion = producerVersion, Graph = graph,
            DocString = "Exported by EquiSharp: tied weights materialised into plain initialisers.",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (k, v) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    private static ValueInfoProto ValueInfo(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                long size => new TensorShapeProto.Types.Dimension { DimValue = size },
                int size => new TensorShapeProto.Types.Dimension { DimValue = size },
                _ => throw new ArgumentException($"dimension {d}: expected a size or an axis name."),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        long i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        double f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ints => WithInts(name, ints),
        _ => throw new ArgumentException($"attribute {name}: unsupported value type {value.GetType().Name}."),
    };

    private static AttributeProto WithInts(string name, long[] ints)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(ints);
        return a;
    }
}
