using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Interop.Onnx;

/// <summary>A value of the graph being written: its name and its rank (reshapes need the rank).</summary>
public readonly record struct OnnxValue(string Name, int Rank);

/// <summary>
/// Writes TorchSharp modules into an <see cref="OnnxGraph"/> as standard ONNX operators, in eval-mode semantics. An
/// equivariant module is written through its dense form (<see cref="IEquivariantModule.ToDenseModule"/>): the tied
/// weights are materialised once into plain Conv / MatMul initialisers, so the graph carries no tying. Plain modules
/// map one to one: Conv1d/Conv2d → Conv, BatchNorm1d/2d/3d (running statistics) → BatchNormalization, Linear → MatMul +
/// Add, ReLU/Sigmoid, MaxPool/AvgPool, AdaptiveAvgPool2d(1) → GlobalAveragePool, Flatten/Unflatten → Reshape, Dropout
/// → nothing, Sequential in order, <see cref="ConcatenatedBranches"/> → Concat, <see cref="SelfCartesian"/> → Transpose,
/// Unsqueeze, Expand, Concat (SCNN eq. 1). Anything else is refused with the module's name and type.
/// </summary>
public sealed class OnnxModuleWriter
{
    /// <summary>The graph written into.</summary>
    public OnnxGraph Graph { get; }

    public OnnxModuleWriter(OnnxGraph graph) { Graph = graph; }

    /// <summary>Writes <paramref name="module"/> applied to <paramref name="x"/>; returns its output.</summary>
    /// <param name="module">A module in eval mode (batch norm uses its running statistics).</param>
    /// <param name="x">The input value.</param>
    /// <param name="name">The module's path in the model, used to name initialisers and in errors.</param>
    public OnnxValue Write(nn.Module module, OnnxValue x, string name)
    {
        switch (module)
        {
            case IEquivariantModule equivariant:
                using (var dense = (nn.Module)equivariant.ToDenseModule())
                    return Write(dense, x, name);
            case TiedConvolution tied:   // a tied convolution without the module contract still exports its plain conv
                using (var dense = tied.ToDense())
                    return Write(dense, x, name);
            case ConcatenatedBranches branches:
                return Concat(branches.Branches.Select((b, i) => Write(b, x, $"{name}.{i}")).ToArray(), branches.Dim);
            case Sequential sequential:
                foreach (var (child, m) in sequential.named_children())
                    x = Write(m, x, $"{name}.{child}");
                return x;
            case SelfCartesian:
                return SelfCartesianProduct(x);
            case Convolution conv:
                return Conv(conv, x, name);
            case BatchNorm bn:
                return BatchNorm(bn, x, name);
            case Linear linear:
                return Linear(linear.weight!, linear.bias, x, name);
            case ReLU:
                return Unary("Relu", x);
            case Sigmoid:
                return Unary("Sigmoid", x);
            case Dropout:
                return x;   // identity in eval mode
            case MaxPool1d p:
                return Pool("MaxPool", x, new[] { p.kernel_size }, new[] { p.stride ?? p.kernel_size }, new[] { p.padding ?? 0 }, p.ceil_mode, p.dilation is long d ? new[] { d } : null, null);
            case MaxPool2d p:
                return Pool("MaxPool", x, p.kernel_size, p.stride ?? p.kernel_size, p.padding ?? new long[p.kernel_size.Length], p.ceil_mode, p.dilation, null);
            case MaxPool3d p:
                return Pool("MaxPool", x, p.kernel_size, p.stride ?? p.kernel_size, p.padding ?? new long[p.kernel_size.Length], p.ceil_mode, p.dilation, null);
            case AvgPool3d p:
                return Pool("AveragePool", x, p.kernel_size, p.stride ?? p.kernel_size, p.padding ?? new long[p.kernel_size.Length], p.ceil_mode, null, p.count_include_pad);
            case AdaptiveAvgPool2d p when p.output_size.All(s => s == 1):
                return Unary("GlobalAveragePool", x);
            case Flatten f:
                return Flatten(x, f.start_dim, f.end_dim);
            case Unflatten u:
                return Unflatten(x, u.dim, u.unflattened_size);
            default:
                throw new NotSupportedException($"ONNX export: layer '{name}' ({module.GetType().Name}) has no ONNX form in EquiSharp's exporter.");
        }
    }

    /// <summary>Concat along <paramref name="axis"/> (negative counts from the end).</summary>
    public OnnxValue Concat(OnnxValue[] values, long axis) =>
        values.Length == 1 ? values[0] : new(Graph.Node("Concat", values.Select(v => v.Name).ToArray(), [("axis", axis)]), values[0].Rank);

    /// <summary>An element-wise operator of one input.</summary>
    public OnnxValue Unary(string op, OnnxValue x) => new(Graph.Node(op, [x.Name]), x.Rank);

    /// <summary>x·Wᵀ + b over the last axis (any rank), as MatMul and Add.</summary>
    public OnnxValue Linear(Tensor weight, Tensor? bias, OnnxValue x, string name)
    {
        string y = Graph.Node("MatMul", [x.Name, Graph.Initializer($"{name}.weight_t", weight.t())]);
        if (bias is not null) y = Graph.Node("Add", [y, Graph.Initializer($"{name}.bias", bias)]);
        return new(y, x.Rank);
    }

    /// <summary>Self-Cartesian product (SCNN eq. 1): (B, L, n) → (B, 2n, L, L), entry (i, j) = [x_i; x_j].</summary>
    public OnnxValue SelfCartesianProduct(OnnxValue x)
    {
        string xt = Graph.Node("Transpose", [x.Name], [("perm", new long[] { 0, 2, 1 })]);                 // (B, n, L)
        string length = Graph.Node("Slice", [Graph.Node("Shape", [x.Name]), Graph.Int64s("one", 1), Graph.Int64s("two", 2)]); // [L]
        string ones2 = Graph.Int64s("ones2", 1, 1);
        string one = Graph.Int64s("one", 1);
        // rows: x_i broadcast along columns; cols: x_j broadcast along rows (Expand with shapes [1,1,1,L] and [1,1,L,1])
        string rows = Graph.Node("Expand", [Graph.Node("Unsqueeze", [xt, Graph.Int64s("axis3", 3)]), Graph.Node("Concat", [ones2, one, length], [("axis", 0L)])]);
        string cols = Graph.Node("Expand", [Graph.Node("Unsqueeze", [xt, Graph.Int64s("axis2", 2)]), Graph.Node("Concat", [ones2, length, one], [("axis", 0L)])]);
        return new(Graph.Node("Concat", [rows, cols], [("axis", 1L)], "self_cartesian"), 4);
    }

    private OnnxValue Conv(Convolution conv, OnnxValue x, string name)
    {
        if (conv.transposed) throw new NotSupportedException($"ONNX export: layer '{name}' is a transposed convolution (not used by EquiSharp's models).");
        if (conv.padding_mode != PaddingModes.Zeros) throw new NotSupportedException($"ONNX export: layer '{name}' pads with {conv.padding_mode}; only zero padding is exported.");
        int dims = conv.kernel_size.Length;
        var kernel = conv.weight!.shape.Skip(2).ToArray();
        var dilation = conv.dilation ?? Enumerable.Repeat(1L, dims).ToArray();
        var stride = conv.stride ?? Enumerable.Repeat(1L, dims).ToArray();
        long[] before, after;
        if (conv.padding_type == TorchSharp.Padding.Same)
        {
            // PyTorch's 'same' (stride 1): total d·(k−1), the odd extra one on the far side
            before = kernel.Select((k, i) => dilation[i] * (k - 1) / 2).ToArray();
            after = kernel.Select((k, i) => dilation[i] * (k - 1) - before[i]).ToArray();
        }
        else if (conv.padding_type == TorchSharp.Padding.Valid) before = after = new long[dims];
        else before = after = conv.padding ?? new long[dims];
        var inputs = new List<string> { x.Name, Graph.Initializer($"{name}.weight", conv.weight!) };
        if (conv.bias is not null) inputs.Add(Graph.Initializer($"{name}.bias", conv.bias));
        return new(Graph.Node("Conv", inputs.ToArray(), [
            ("kernel_shape", kernel), ("strides", stride), ("dilations", dilation), ("group", conv.groups), ("pads", before.Concat(after).ToArray()),
        ]), x.Rank);
    }

    private OnnxValue BatchNorm(BatchNorm bn, OnnxValue x, string name)
    {
        if (bn.training) throw new InvalidOperationException($"ONNX export: batch norm '{name}' is in training mode; export a model in eval mode (running statistics).");
        var mean = bn.running_mean ?? throw new NotSupportedException($"ONNX export: batch norm '{name}' tracks no running statistics.");
        var variance = bn.running_var!;
        var scale = bn.weight is null ? ones_like(mean) : (Tensor)bn.weight;
        var shift = bn.bias is null ? zeros_like(mean) : (Tensor)bn.bias;
        return new(Graph.Node("BatchNormalization", [
            x.Name, Graph.Initializer($"{name}.weight", scale), Graph.Initializer($"{name}.bias", shift),
            Graph.Initializer($"{name}.running_mean", mean), Graph.Initializer($"{name}.running_var", variance),
        ], [("epsilon", (float)bn.eps)]), x.Rank);
    }

    private OnnxValue Pool(string op, OnnxValue x, long[] kernel, long[] stride, long[] padding, bool ceil, long[]? dilation, bool? countIncludePad)
    {
        var attributes = new List<(string, object)> { ("kernel_shape", kernel), ("strides", stride), ("pads", padding.Concat(padding).ToArray()), ("ceil_mode", ceil ? 1L : 0L) };
        if (dilation is not null && dilation.Any(d => d != 1)) attributes.Add(("dilations", dilation));
        if (countIncludePad is bool c) attributes.Add(("count_include_pad", c ? 1L : 0L));
        return new(Graph.Node(op, [x.Name], attributes.ToArray()), x.Rank);
    }

    /// <summary>torch.flatten(x, start, end) as a Reshape whose shape keeps the other axes from Shape(x).</summary>
    public OnnxValue Flatten(OnnxValue x, long start, long end)
    {
        int s = (int)(start < 0 ? start + x.Rank : start), e = (int)(end < 0 ? end + x.Rank : end);
        if (e <= s) return x;
        return Reshape(x, s, e + 1, Graph.Int64s("minus_one", -1), x.Rank - (e - s));
    }

    /// <summary>nn.Unflatten(dim, sizes) as a Reshape.</summary>
    public OnnxValue Unflatten(OnnxValue x, long dim, long[] sizes)
    {
        int d = (int)(dim < 0 ? dim + x.Rank : dim);
        return Reshape(x, d, d + 1, Graph.Int64s("sizes", sizes), x.Rank - 1 + sizes.Length);
    }

    /// <summary>Replaces axes [from, to) of x by <paramref name="middle"/> (an int64 shape piece).</summary>
    private OnnxValue Reshape(OnnxValue x, int from, int to, string middle, int rank)
    {
        string shape = Graph.Node("Shape", [x.Name]);
        var parts = new List<string>();
        if (from > 0) parts.Add(Graph.Node("Slice", [shape, Graph.Int64s("start", 0), Graph.Int64s("end", from)]));
        parts.Add(middle);
        if (to < x.Rank) parts.Add(Graph.Node("Slice", [shape, Graph.Int64s("start", to), Graph.Int64s("end", x.Rank)]));
        string target = parts.Count == 1 ? parts[0] : Graph.Node("Concat", parts.ToArray(), [("axis", 0L)]);
        return new(Graph.Node("Reshape", [x.Name, target]), rank);
    }
}
