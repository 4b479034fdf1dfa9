using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Pairwise.Network;

/// <summary>Settings of <see cref="TiledPairInference"/>.</summary>
public sealed record TiledInferenceOptions
{
    /// <summary>Side of the square output tiles each convolution is computed on (its input tile adds the kernel's halo).</summary>
    public int TileSize { get; init; } = 256;
    /// <summary>For a symmetric (SCNN) model, compute only tiles on or above the diagonal and mirror them.</summary>
    public bool UseSymmetry { get; init; } = true;
    /// <summary>
    /// For a symmetric (SCNN) model with <see cref="UseSymmetry"/>, run the whole map as packed symmetric maps (the folded
    /// layout: about half the memory of a dense map, one convolution per branch over the folded rectangle) instead of
    /// dense tiles; <see cref="TileSize"/> then does not apply.
    /// </summary>
    public bool PackedMaps { get; init; } = true;
    /// <summary>
    /// With <see cref="PackedMaps"/> and no pair features, run the layers as a pipeline over row bands of the upper
    /// triangle (<see cref="StreamedPairInference"/>): no layer's map is ever held whole, only the rows the next layer
    /// still reads. False: the whole folded map of one layer at a time.
    /// </summary>
    public bool Streamed { get; init; } = true;
}

/// <summary>
/// Eval-mode, no-grad inference of a <see cref="PairNetwork"/> on one full-length sequence, layer by layer: each
/// layer's output map (C × L × L) is kept whole, but every convolution is computed on square output tiles from an
/// input tile with a halo of (kernel − 1)/2, zero outside the map (the 'same' padding of the plain forward). Memory
/// per convolution call is bounded by the tile, so no im2col buffer grows with L² × k² (13×13 kernels on 3000 nt
/// would need hundreds of GB). For the SCNN every map is symmetric, so only tiles with row-block ≤ column-block are
/// computed and the others are their transposes: about half the work.
/// </summary>
public static class TiledPairInference
{
    /// <summary>
    /// Logits (out, L, L) of one sequence given as features (1, L, n), with its pair features (1, P, L, L) when the
    /// network takes some. The network is switched to eval mode and restored. A symmetric network without pair features
    /// runs streamed by default (<see cref="TiledInferenceOptions.Streamed"/>).
    /// </summary>
    public static Tensor Logits(PairNetwork network, Tensor input, Tensor? pairFeatures = null, TiledInferenceOptions? options = null)
    {
        options ??= new TiledInferenceOptions();
        if (input.dim() != 3 || input.shape[0] != 1 || input.shape[2] != network.Spec.InputFeatures)
            throw new ArgumentException($"Tiled inference takes one sequence (1, L, {network.Spec.InputFeatures}), got [{string.Join(", ", input.shape)}].");
        if ((pairFeatures is null) != (network.Spec.PairFeatures == 0))
            throw new ArgumentException($"The network was built for {network.Spec.PairFeatures} pair features; {(pairFeatures is null ? "none were given" : "got some")}.");
        if (options.TileSize < 1) throw new ArgumentException($"TileSize must be positive, got {options.TileSize}.");
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var grad = no_grad();
            bool mirror = options.UseSymmetry && network.Symmetric;
            if (mirror && options.PackedMaps && options.Streamed && pairFeatures is null)
                return StreamedPairInference.Logits(network, input);
            if (mirror && options.PackedMaps)
            {
                using var scope = NewDisposeScope();
                return network.ForwardPacked(input, network.SequenceFeatures(input), pairFeatures, null)[0].MoveToOuterDisposeScope();
            }
            int l = (int)input.shape[1];
            var tiles = Tiles(l, options.TileSize);
            var pairs = pairFeatures is null ? Array.Empty<Tensor>() : new[] { pairFeatures };

            Tensor features;
            using (var s = NewDisposeScope()) features = network.SequenceFeatures(input).contiguous().MoveToOuterDisposeScope();
            Tensor map;
            using (features) map = Encoder(network.Encoder, features, l, tiles, mirror);
            bool first = true;
            foreach (var stage in network.Stages)
            {
                var next = Stage(stage, first ? pairs.Prepend(map).ToArray() : new[] { map }, l, tiles, mirror);
                map.Dispose();
                map = next;
                first = false;
            }
            using var skip = network.Skip is null ? null : Encoder(network.Skip, input, l, tiles, mirror);
            var tail = new List<Tensor> { map };
            if (first) tail.AddRange(pairs); // no stages: the pair features follow the encoder straight into the head
            if (skip is not null) tail.Add(skip);
            tail.AddRange(pairs);
            using var logits = Stage(network.Head, tail, l, tiles, mirror);
            map.Dispose();
            return logits[0].clone();
        }
        finally
        {
            network.train(wasTraining);
        }
    }

    /// <summary>Tile ranges [start, end) covering 0..L.</summary>
    private static (int Start, int End)[] Tiles(int l, int size)
    {
        var list = new List<(int, int)>();
        for (int s = 0; s < l; s += size) list.Add((s, Math.Min(l, s + size)));
        return list.ToArray();
    }

    /// <summary>The (row tile, column tile) pairs to compute; with mirroring only the upper block triangle.</summary>
    private static IEnumerable<(int R, int C)> TilePairs(int count, bool mirror)
    {
        for (int r = 0; r < count; r++)
            for (int c = mirror ? r : 0; c < count; c++) yield return (r, c);
    }

    /// <summary>Writes a computed tile (1, C, h, w) into the output map, and its transpose below the diagonal when mirroring.</summary>
    private static void Place(Tensor output, Tensor tile, (int Start, int End) rows, (int Start, int End) cols, bool mirror)
    {
        var r = TensorIndex.Slice(rows.Start, rows.End);
        var c = TensorIndex.Slice(cols.Start, cols.End);
        output[TensorIndex.Colon, TensorIndex.Colon, r, c] = tile;
        if (mirror && rows.Start != cols.Start)
            output[TensorIndex.Colon, TensorIndex.Colon, c, r] = tile.transpose(2, 3);
    }

    /// <summary>
    /// The input region rows [r0 − halo, r1 + halo) × cols [c0 − halo, c1 + halo) of the channel-concatenated maps,
    /// with zeros where it falls outside the L×L map.
    /// </summary>
    private static Tensor HaloTile(IReadOnlyList<Tensor> maps, int l, (int Start, int End) rows, (int Start, int End) cols, int halo)
    {
        int r0 = Math.Max(0, rows.Start - halo), r1 = Math.Min(l, rows.End + halo);
        int c0 = Math.Max(0, cols.Start - halo), c1 = Math.Min(l, cols.End + halo);
        var parts = maps.Select(m => m[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(r0, r1), TensorIndex.Slice(c0, c1)]).ToArray();
        var x = parts.Length == 1 ? parts[0] : cat(parts, 1);
        long left = c0 - (cols.Start - halo), right = (cols.End + halo) - c1;
        long top = r0 - (rows.Start - halo), bottom = (rows.End + halo) - r1;
        if (left == 0 && right == 0 && top == 0 && bottom == 0) return x;
        return nn.functional.pad(x, new long[] { left, right, top, bottom });
    }

    /// <summary>A convolution branch reduced to its dense kernel (out, in, k, k), bias and dilation.</summary>
    internal sealed record Branch(Tensor Weight, Tensor? Bias, int Kernel, int Dilation)
    {
        public int Halo => Dilation * (Kernel - 1) / 2;

        public static Branch Of(nn.Module conv) => conv switch
        {
            SymmetricConv2d s => new Branch(s.Weight(), s.Bias, (int)s.KernelSize, (int)s.Dilation),
            Conv2d c => new Branch(c.weight!, c.bias, (int)c.weight!.shape[2], 1), // the model's plain convs are undilated
            _ => throw new NotSupportedException($"Tiled inference does not know the convolution {conv.GetType().Name}."),
        };

        /// <summary>Valid convolution of an input tile whose halo exceeds this branch's by <paramref name="extra"/>.</summary>
        public Tensor Apply(Tensor input, int extra)
        {
            if (extra > 0)
            {
                long h = input.shape[2] - 2 * extra, w = input.shape[3] - 2 * extra;
                input = input.narrow(2, extra, h).narrow(3, extra, w);
            }
            return nn.functional.conv2d(input, Weight, Bias, dilation: new long[] { Dilation, Dilation });
        }
    }

    internal static Tensor Activate(Tensor y, PairActivation? activation) => activation switch
    {
        PairActivation.ReLU => nn.functional.relu(y),
        PairActivation.Sigmoid => nn.functional.sigmoid(y),
        _ => y,
    };

    /// <summary>A multi-kernel stage: convs on haloed tiles → (eval) batch norm → activation.</summary>
    private static Tensor Stage(PairConvStage stage, IReadOnlyList<Tensor> inputs, int l, (int Start, int End)[] tiles, bool mirror)
    {
        using var outer = NewDisposeScope();
        var (branches, norm) = Parts(stage);
        int halo = branches.Max(b => b.Halo);
        var output = empty(new long[] { 1, stage.OutChannels, l, l }, dtype: inputs[0].dtype, device: inputs[0].device);
        foreach (var (ri, ci) in TilePairs(tiles.Length, mirror))
        {
            using var scope = NewDisposeScope();
            var x = HaloTile(inputs, l, tiles[ri], tiles[ci], halo);
            var y = branches.Length == 1 ? branches[0].Apply(x, halo - branches[0].Halo)
                : cat(branches.Select(b => b.Apply(x, halo - b.Halo)).ToArray(), 1);
            if (norm is not null) y = norm.forward(y, null);
            Place(output, Activate(y, stage.Activation), tiles[ri], tiles[ci], mirror);
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>A stage's branches (dense kernels) and its batch norm.</summary>
    internal static (Branch[] Branches, PairBatchNorm2d? Norm) Parts(PairConvStage stage) =>
        (stage.Branches.Select(Branch.Of).ToArray(), stage.Norm);

    /// <summary>A pair encoder: self-Cartesian product of the sequence features built tile by tile → conv → norm → activation.</summary>
    private static Tensor Encoder(PairEncoder encoder, Tensor features, int l, (int Start, int End)[] tiles, bool mirror)
    {
        using var outer = NewDisposeScope();
        var (branch, norm) = Parts(encoder);
        var xt = features.transpose(1, 2); // (1, n, L)
        var output = empty(new long[] { 1, encoder.OutChannels, l, l }, dtype: features.dtype, device: features.device);
        foreach (var (ri, ci) in TilePairs(tiles.Length, mirror))
        {
            using var scope = NewDisposeScope();
            Place(output, EncoderTile(encoder, branch, norm, xt, l, tiles[ri], tiles[ci]), tiles[ri], tiles[ci], mirror);
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>An encoder's convolution (dense kernel) and its batch norm.</summary>
    internal static (Branch Branch, PairBatchNorm2d? Norm) Parts(PairEncoder encoder)
    {
        var children = encoder.named_children().Select(c => c.module).ToList();
        return (Branch.Of(children.Single(m => m is SymmetricConv2d or Conv2d)), children.OfType<PairBatchNorm2d>().SingleOrDefault());
    }

    /// <summary>
    /// The encoder's output (1, C, rows, cols) on one rectangle of the map: the self-Cartesian product of the sequence
    /// features <paramref name="xt"/> (1, n, L) over the rectangle and its halo (zero outside the map) → conv → norm → activation.
    /// </summary>
    internal static Tensor EncoderTile(PairEncoder encoder, Branch branch, PairBatchNorm2d? norm, Tensor xt, long l, (long Start, long End) rows, (long Start, long End) cols)
    {
        long halo = branch.Halo, n = xt.shape[1];
        var (rs, re) = rows;
        var (cs, ce) = cols;
        long r0 = Math.Max(0, rs - halo), r1 = Math.Min(l, re + halo), c0 = Math.Max(0, cs - halo), c1 = Math.Min(l, ce + halo);
        var rowsPart = xt.narrow(2, r0, r1 - r0).unsqueeze(3).expand(1, n, r1 - r0, c1 - c0);
        var colsPart = xt.narrow(2, c0, c1 - c0).unsqueeze(2).expand(1, n, r1 - r0, c1 - c0);
        var x = cat(new[] { rowsPart, colsPart }, 1);
        long left = c0 - (cs - halo), right = (ce + halo) - c1, top = r0 - (rs - halo), bottom = (re + halo) - r1;
        if (left + right + top + bottom > 0) x = nn.functional.pad(x, new long[] { left, right, top, bottom });
        var y = branch.Apply(x, 0);
        if (norm is not null) y = norm.forward(y, null);
        return Activate(y, encoder.Activation);
    }
}
