using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise.Packed;

/// <summary>Differentiable primitives on packed symmetric maps.</summary>
public static class PackedFunctions
{
    /// <summary>
    /// Every stored block with a halo of <paramref name="halo"/> on each side: (P, B, C, R+2h, C+2h), every halo position
    /// (and every non-canonical centre cell) holding the canonical cell of its entry, zero outside the L×L map. The
    /// backward pass is the adjoint (ring gradients are added back into their source cells); nothing is saved for it.
    /// </summary>
    public static Tensor GatherHalo(Tensor blocks, PackedLayout layout, long halo) =>
        HaloGather.apply(blocks, new HaloArgs(layout, layout.Halo(halo)));

    internal sealed record HaloArgs(PackedLayout Layout, HaloPlan Plan);

    internal sealed class HaloGather : autograd.SingleTensorFunction<HaloGather>
    {
        public override string Name => nameof(HaloGather);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            var args = (HaloArgs)vars[1];
            ctx.save_data("args", args);
            var plan = args.Plan;
            long p = x.shape[0], b = x.shape[1], c = x.shape[2], h = plan.H;
            GradientHandoff.ReleaseHandedOff();
            using var scope = NewDisposeScope();
            var dev = x.device;
            var canvas = empty(new[] { p, b, c, plan.CanvasRows, plan.CanvasCols }, dtype: x.dtype, device: dev);
            // a handful of large ops (few ops matter on a busy 2-core machine): centre copy, one gather and one scatter of
            // the ring (halo and non-canonical centre cells), one zero fill of the positions outside the map
            canvas.narrow(3, h, plan.Rows).narrow(4, h, plan.Cols).copy_(x);
            CopyRing(x.reshape(p, b * c, plan.Rows * plan.Cols), canvas.view(p, b * c, plan.CanvasRows * plan.CanvasCols), plan);
            return GradientHandoff.HandOff(canvas);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
        {
            var plan = ((HaloArgs)ctx.get_data("args")).Plan;
            using var scope = NewDisposeScope();
            var gx = RingAdjoint(grad, plan, gradIsOwned: false);
            grad.Dispose(); // the wrapper TorchSharp made for us would otherwise live in the caller's scope
            GradientHandoff.ReleaseHandedOff();
            return new List<Tensor> { GradientHandoff.HandOff(gx), null! };
        }
    }

    /// <summary>
    /// Copies the ring of a plan from <paramref name="source3"/> (P, BC, R·C) into <paramref name="target3"/>
    /// (P, BC, positions): every ring position gets the canonical cell of its entry, every position outside the map 0.
    /// One gather, one scatter and one fill (few large ops matter on a busy 2-core machine).
    /// </summary>
    private static void CopyRing(Tensor source3, Tensor target3, HaloPlan plan)
    {
        var dev = source3.device;
        if (plan.RingQ.Length > 0)
        {
            var ring = source3.index(TensorIndex.Tensor(plan.Idx(plan.RingBlock, dev)), TensorIndex.Colon, TensorIndex.Tensor(plan.Idx(plan.RingOff, dev)));   // (Q, BC)
            target3.index_put_(ring, TensorIndex.Tensor(plan.Idx(plan.RingQ, dev)), TensorIndex.Colon, TensorIndex.Tensor(plan.Idx(plan.RingPos, dev)));
        }
        if (plan.ZeroQ.Length > 0)
            target3.index_put_(KeptScalar.Of(0f), TensorIndex.Tensor(plan.Idx(plan.ZeroQ, dev)), TensorIndex.Colon, TensorIndex.Tensor(plan.Idx(plan.ZeroPos, dev)));
    }

    /// <summary>
    /// Adjoint of the ring gather: (P, B, C, R+2h, C+2h) canvas gradient → (P, B, C, R, C) block gradient. Ring
    /// gradients (grouped by source block, (P, width, BC)) are read first; centre cells that did not reach the canvas
    /// (overwritten by the ring, or zero) get 0, then one scatter-add along the offset axis adds the ring gradients into
    /// their sources (duplicates accumulate).
    /// </summary>
    /// <param name="grad">Canvas gradient (P, B, C, R+2h, C+2h).</param>
    /// <param name="plan">The plan the canvas was gathered with.</param>
    /// <param name="gradIsOwned">True when <paramref name="grad"/> is the caller's own tensor: with h = 0 it is then
    /// modified in place and returned. Otherwise (a gradient autograd may also hand to other nodes) it is never written.</param>
    internal static Tensor RingAdjoint(Tensor grad, HaloPlan plan, bool gradIsOwned)
    {
        long p = grad.shape[0], b = grad.shape[1], c = grad.shape[2], h = plan.H, cells = plan.Rows * plan.Cols;
        var dev = grad.device;
        Tensor? vals = null;
        if (plan.RingQ.Length > 0)
        {
            var g3 = grad.reshape(p, b * c, plan.CanvasRows * plan.CanvasCols);
            vals = g3.index(TensorIndex.Tensor(plan.Idx2(plan.AdjQ, p, dev)), TensorIndex.Colon, TensorIndex.Tensor(plan.Idx2(plan.AdjPos, p, dev)));
            vals.mul_(plan.AdjW(dev, grad.dtype, p));
        }
        var centre = grad.narrow(3, h, plan.Rows).narrow(4, h, plan.Cols);
        // a halo > 0 makes the centre a strided view, so contiguous() copies; with h = 0 it would be grad itself
        var gx = h == 0 && !gradIsOwned ? centre.clone() : centre.contiguous();
        var gx3 = gx.view(p, b * c, cells);
        if (plan.DeadQ.Length > 0)
            gx3.index_put_(KeptScalar.Of(0f), TensorIndex.Tensor(plan.Idx(plan.DeadQ, dev)), TensorIndex.Colon, TensorIndex.Tensor(plan.Idx(plan.DeadOff, dev)));
        if (vals is not null)
        {
            var offs = plan.Idx2(plan.AdjOff, p, dev).unsqueeze(1).expand(p, b * c, plan.AdjWidth);
            gx3.scatter_add_(2, offs, vals.permute(0, 2, 1));
        }
        return gx;
    }

    /// <summary>ReLU on packed maps: recorded as pending and applied by the consumer (no copy, no extra saved tensor).</summary>
    public static PackedSymmetricMap Relu(PackedSymmetricMap x) => x.PendingRelu ? x : x.With(x.Data, pendingRelu: true, haloFilled: x.HaloFilled);

    /// <summary>Sigmoid on packed maps, elementwise on the stored cells (sigmoid(0) ≠ 0: callers re-mask padding).</summary>
    public static PackedSymmetricMap Sigmoid(PackedSymmetricMap x) => x.With(x.Materialized().sigmoid());

    /// <summary>
    /// Several symmetry-preserving convolutions of the same packed input, outputs concatenated on channels: one haloed
    /// gather with the widest reach, every branch convolves (a centre crop of) it; 'same'-padded, on the stored blocks
    /// only (output (P, B, F, R, C)). The pending ReLU of the input is applied to the canvas, so the convolution's saved
    /// input is the only stored copy of the activation. One branch is the packed single convolution. With
    /// <paramref name="fourier"/> the branches run as one merged kernel by FFTs (<see cref="FourierConvolution"/>).
    /// </summary>
    public static PackedSymmetricMap MultiConv(PackedSymmetricMap x, IReadOnlyList<SymmetryPreservingConv2d> branches, bool fourier = false)
    {
        if (branches.Count == 0) throw new ArgumentException("Packed conv: no branches.", nameof(branches));
        foreach (var b in branches)
            if (b.InChannels != x.Channels)
                throw new ArgumentException($"Packed conv: a branch expects {b.InChannels} channels, the map has {x.Channels}.", nameof(x));
        if (!is_grad_enabled()) return ConvolveParts(new[] { x }, branches, fourier);
        long halo = branches.Max(b => b.Reach);
        var (canvas, gathered) = Canvas(x, halo);
        long margin = gathered == 0 ? x.Layout.Margin : 0, rows = x.Layout.BlockRows, cols = x.Layout.BlockCols;
        Tensor y;
        if (fourier)
        {
            // one correlation of the widest reach's region gives every branch's channels (each kernel centred in the widest)
            var (weight, bias) = MergedKernel(branches);
            y = FourierConvolution.Valid(Region(x, canvas, gathered, halo), weight, bias);
        }
        else
        {
            var outs = branches.Select(b => ValidConv(Region(x, canvas, gathered, b.Reach), b.Weight(), b.Bias, b.Dilation)).ToArray();
            y = outs.Length == 1 ? outs[0] : cat(outs, 1);
            if (outs.Length > 1) foreach (var o in outs) o.Dispose();
        }
        // the margin's outputs are never read: zeros keep the block's shape (one copy, cheap next to the convolutions)
        if (margin > 0) { var padded = nn.functional.pad(y, new[] { margin, margin, margin, margin }); y.Dispose(); y = padded; }
        canvas.Dispose(); // the branch convolutions keep their own references
        return x.With(y.view(x.Layout.BlockCount, x.Batch, y.shape[1], rows, cols));
    }

    /// <summary>
    /// Inference (no autograd) form of <see cref="MultiConv"/> on the channel concatenation of <paramref name="parts"/>,
    /// without building it: a convolution is linear in its input channels, so each part is convolved with its slice of
    /// every branch's kernel and the results are summed into the branch's channels of one output block (bias once). No
    /// concatenated input, no per-branch outputs: at full length each of those is a map of hundreds of MB.
    /// </summary>
    internal static PackedSymmetricMap ConvolveParts(IReadOnlyList<PackedSymmetricMap> parts, IReadOnlyList<SymmetryPreservingConv2d> branches, bool fourier = false)
    {
        if (is_grad_enabled()) throw new InvalidOperationException("Packed conv: the part-wise convolution is for inference (no autograd).");
        var x = parts[0];
        if (parts.Any(q => !q.Layout.Equals(x.Layout) || q.Batch != x.Batch)) throw new ArgumentException("Packed conv: the parts must share layout and batch.", nameof(parts));
        long channels = parts.Sum(q => q.Channels);
        foreach (var b in branches)
            if (b.InChannels != channels)
                throw new ArgumentException($"Packed conv: a branch expects {b.InChannels} channels, the maps have {channels}.", nameof(parts));
        long halo = branches.Max(b => b.Reach), rows = x.Layout.BlockRows, cols = x.Layout.BlockCols;
        var y = zeros(new[] { x.Layout.BlockCount * x.Batch, branches.Sum(b => b.OutChannels), rows, cols }, dtype: x.Data.dtype, device: x.Data.device);
        long c0 = 0;
        // by FFTs: every branch's kernel centred in one, each part convolved with its input-channel slice of it
        (Tensor? Weight, Tensor? Bias) merged = fourier ? MergedKernel(branches) : (null, null);
        using var mergedWeight = merged.Weight;
        using var mergedBias = merged.Bias;
        for (int p = 0; p < parts.Count; p++)
        {
            var (canvas, gathered) = Canvas(parts[p], halo);
            long margin = gathered == 0 ? x.Layout.Margin : 0, f0 = 0;
            if (mergedWeight is not null)
            {
                var interior = y.narrow(2, margin, rows - 2 * margin).narrow(3, margin, cols - 2 * margin);
                using var w = parts.Count == 1 ? mergedWeight.alias() : mergedWeight.narrow(1, c0, parts[p].Channels);
                using var kernel = new FourierConvolution.Prepared(w, p == 0 ? mergedBias : null);
                ValidConv(Region(parts[p], canvas, gathered, halo), kernel, interior, accumulate: p > 0);
            }
            else foreach (var b in branches)
            {
                var interior = y.narrow(1, f0, b.OutChannels).narrow(2, margin, rows - 2 * margin).narrow(3, margin, cols - 2 * margin);
                var w = parts.Count == 1 ? b.Weight() : b.Weight().narrow(1, c0, parts[p].Channels);
                ValidConv(Region(parts[p], canvas, gathered, b.Reach), w, p == 0 ? b.Bias : null, b.Dilation, interior, accumulate: p > 0);
                f0 += b.OutChannels;
            }
            canvas.Dispose();
            c0 += parts[p].Channels;
        }
        return x.With(y.view(x.Layout.BlockCount, x.Batch, y.shape[1], rows, cols));
    }

    /// <summary>
    /// Inference (no autograd) form of <see cref="MultiConv"/> for one block of one sequence whose data is a ready canvas
    /// (<see cref="PackedSymmetricMap.HaloFilled"/>, in-place halo) held in the first channel planes of
    /// <paramref name="buffer"/> (1, C, cells): the output is written into the first planes of the same buffer. Output row
    /// strips are computed in order; a strip reads input rows up to the widest reach h around it, so once it is computed
    /// every row above its last h rows is read by no later strip and is overwritten with the strip's output; its last h
    /// rows are written after the next strip. The sums are those of <see cref="ConvolveParts"/>; only the margin differs
    /// (it keeps stale input values instead of zeros) and nothing reads it before batch norm refills the ring. At full
    /// length this keeps one map instead of a stage's input and output (at 1,526 nt: 246 instead of 443 MB).
    /// </summary>
    internal static PackedSymmetricMap ConvolveInPlace(PackedSymmetricMap x, Tensor buffer, IReadOnlyList<SymmetryPreservingConv2d> branches, bool fourier = false)
    {
        if (is_grad_enabled()) throw new InvalidOperationException("Packed conv: the in-place convolution is for inference (no autograd).");
        var layout = x.Layout;
        long halo = branches.Max(b => b.Reach), cout = branches.Sum(b => b.OutChannels), rows = layout.BlockRows, cols = layout.BlockCols, m = layout.Margin;
        if (layout.BlockCount * x.Batch != 1 || !x.HaloFilled || m < halo || buffer.dim() != 3 || buffer.shape[0] != 1
            || buffer.shape[1] < Math.Max(cout, x.Channels) || buffer.shape[2] != layout.Cells || !SameStorage(x.Data, buffer))
            throw new ArgumentException("Packed conv: the in-place convolution needs one filled block held in the first planes of a buffer with room for its output.", nameof(x));
        foreach (var b in branches)
            if (b.InChannels != x.Channels)
                throw new ArgumentException($"Packed conv: a branch expects {b.InChannels} channels, the map has {x.Channels}.", nameof(x));
        var (canvas, _) = Canvas(x, halo);                                      // the data itself, pending ReLU applied in place
        var output = buffer.narrow(1, 0, cout).view(1, cout, rows, cols);
        long outRows = rows - 2 * m, outCols = cols - 2 * m;
        long strip = Math.Max(Math.Max(1, halo), InferenceStripCells / Math.Max(1, outCols));
        // tied kernels materialised once, not per strip; by FFTs, the merged kernel transformed once
        var weights = fourier ? Array.Empty<Tensor>() : branches.Select(b => b.Weight()).ToArray();
        FourierConvolution.Prepared? kernel = null;
        if (fourier)
        {
            var (w, bias) = MergedKernel(branches);
            kernel = new FourierConvolution.Prepared(w, bias);
            w.Dispose(); bias?.Dispose();
            strip = kernel.StripRows(strip);
        }
        Tensor? pending = null;                                                  // the previous strip's last rows, not yet written
        long pendingRow = 0;
        for (long r = 0; r < outRows; r += strip)
        {
            // every view of a strip goes with the strip: a view kept to the stage's end would keep its strip's memory
            using var stripScope = NewDisposeScope();
            long n = Math.Min(strip, outRows - r);
            // by FFTs the merged kernel's output is the strip itself; directly, the branches write their channels of one strip
            var y = kernel is not null
                ? kernel.Correlate(canvas.narrow(2, m + r - halo, n + 2 * halo).narrow(3, m - halo, outCols + 2 * halo))
                : empty(new[] { 1, cout, n, outCols }, dtype: x.Data.dtype, device: x.Data.device);
            long f0 = 0;
            if (kernel is null) for (int k = 0; k < branches.Count; k++)
            {
                var b = branches[k];
                long reach = b.Reach;
                var input = canvas.narrow(2, m + r - reach, n + 2 * reach).narrow(3, m - reach, outCols + 2 * reach);
                using var yb = nn.functional.conv2d(input, weights[k], b.Bias, dilation: new[] { b.Dilation, b.Dilation });
                y.narrow(1, f0, b.OutChannels).copy_(yb);
                f0 += b.OutChannels;
            }
            if (pending is not null) { output.narrow(2, m + pendingRow, pending.shape[2]).narrow(3, m, outCols).copy_(pending); pending.Dispose(); pending = null; }
            bool last = r + n >= outRows;
            long now = last ? n : n - halo;                                      // rows no later strip reads
            if (now > 0) output.narrow(2, m + r, now).narrow(3, m, outCols).copy_(y.narrow(2, 0, now));
            if (!last && halo > 0) { pending = y.narrow(2, now, n - now).clone().MoveToOuterDisposeScope(); pendingRow = r + now; }
        }
        canvas.Dispose(); // a view of the buffer
        foreach (var w in weights) w.Dispose();
        kernel?.Dispose();
        return new PackedSymmetricMap(output.view(1, 1, cout, rows, cols), layout);
    }

    /// <summary>Whether two tensors are views of one storage (float32 and float64; other types: false).</summary>
    private static bool SameStorage(Tensor a, Tensor b) => a.dtype == b.dtype && a.dtype switch
    {
        ScalarType.Float32 => a.storage<float>().data_ptr() == b.storage<float>().data_ptr(),
        ScalarType.Float64 => a.storage<double>().data_ptr() == b.storage<double>().data_ptr(),
        _ => false,
    };

    /// <summary>
    /// The blocks with a halo of <paramref name="halo"/> filled in, (P·B, C, R+2g, C+2g), pending activation applied, and
    /// the halo g actually gathered around the block: 0 when the layout's margin already holds it (in-place halo).
    /// </summary>
    internal static (Tensor Canvas, long Gathered) Canvas(PackedSymmetricMap x, long halo)
    {
        long g = x.Layout.Margin >= halo ? 0 : halo;
        if (g == 0 && x.HaloFilled)
        {
            // the producer (batch norm, the generating layer) already filled the ring: the data is the canvas
            // without autograd the ReLU goes in place: the map's value relu(Data) is unchanged, and no second full-length copy is made
            var own = !x.PendingRelu ? x.Data.alias() : is_grad_enabled() ? nn.functional.relu(x.Data) : x.Data.relu_().alias();
            return (own.view(x.Layout.BlockCount * x.Batch, x.Channels, x.Layout.BlockRows, x.Layout.BlockCols), 0);
        }
        using var raw = GatherHalo(x.Data, x.Layout, g);
        if (x.PendingRelu) raw.relu_();
        var canvas = raw.view(x.Layout.BlockCount * x.Batch, x.Channels, x.Layout.BlockRows + 2 * g, x.Layout.BlockCols + 2 * g).DetachFromDisposeScope();
        return (canvas, g);
    }

    /// <summary>
    /// The region of a canvas a branch of reach <paramref name="halo"/> convolves validly: the cells that carry values
    /// (the block minus its margin) with the branch's halo around them. The canvas was gathered with halo
    /// <paramref name="canvasHalo"/> ≥ the reach, or (<paramref name="canvasHalo"/> = 0) is the block itself, whose margin
    /// holds the halo in place. Only the values are convolved: the margin's outputs are never read, so computing them
    /// ('same' padding over the whole block) would cost the margin's share — 0.863 instead of 0.695 of a dense map's
    /// work at L = 128, h = 6.
    /// </summary>
    internal static Tensor Region(PackedSymmetricMap x, Tensor canvas, long canvasHalo, long halo)
    {
        long margin = canvasHalo == 0 ? x.Layout.Margin : 0, rows = x.Layout.BlockRows - 2 * margin, cols = x.Layout.BlockCols - 2 * margin;
        if (canvasHalo == 0 && halo > margin)
            throw new ArgumentException($"Packed conv: kernel reach {halo} exceeds the layout's margin {margin}.", nameof(halo));
        if (canvasHalo > 0 && halo > canvasHalo) throw new ArgumentException($"Packed conv: kernel reach {halo} exceeds the gathered halo {canvasHalo}.", nameof(halo));
        long inner = canvasHalo == 0 ? margin : canvasHalo;
        return canvas.narrow(2, inner - halo, rows + 2 * halo).narrow(3, inner - halo, cols + 2 * halo);
    }

    /// <summary>Output cells per convolution call without autograd (inference): bounds the convolution's scratch memory.</summary>
    public const long DefaultInferenceStripCells = 1L << 15;

    [ThreadStatic] private static long? stripCellsOverride;

    /// <summary>
    /// The strip size inference uses on this thread (<see cref="DefaultInferenceStripCells"/> unless a test overrides it
    /// to exercise many strips; results do not depend on it). Per thread and internal, so no caller and no concurrently
    /// running test sees another's setting.
    /// </summary>
    internal static long InferenceStripCells
    {
        get => stripCellsOverride ?? DefaultInferenceStripCells;
        set => stripCellsOverride = value;
    }

    /// <summary>
    /// A valid convolution, returned, or written into (or, with <paramref name="accumulate"/>, added to) <paramref name="into"/> (inference only). Without autograd large
    /// maps are convolved in row strips, each with its halo: the same sums, with the convolution's temporary buffers
    /// bounded by the strip instead of growing with the map (full-length inference of thousands of nucleotides).
    /// </summary>
    private static Tensor ValidConv(Tensor input, FourierConvolution.Prepared kernel, Tensor into, bool accumulate)
    {
        long k = kernel.KernelSize - 1, outRows = input.shape[2] - k, outCols = input.shape[3] - k;
        long strip = kernel.StripRows(InferenceStripCells / Math.Max(1, outCols));
        for (long r = 0; r < outRows; r += strip)
        {
            long n = Math.Min(strip, outRows - r);
            using var y = kernel.Correlate(input.narrow(2, r, n + k));
            if (accumulate) into.narrow(2, r, n).add_(y, KeptScalar.One); else into.narrow(2, r, n).copy_(y);
        }
        return into;
    }

    /// <summary>The branches as one kernel of the widest reach (<see cref="FourierConvolution.MergeCentred"/>).</summary>
    private static (Tensor Weight, Tensor? Bias) MergedKernel(IReadOnlyList<SymmetryPreservingConv2d> branches) =>
        FourierConvolution.MergeCentred(branches.Select(b => (b.Weight(), b.BiasVector())).ToList());

    private static Tensor ValidConv(Tensor input, Tensor weight, Tensor? bias, long dilation, Tensor? into = null, bool accumulate = false)
    {
        long k = dilation * (weight.shape[2] - 1), outRows = input.shape[2] - k, outCols = input.shape[3] - k;
        long strip = Math.Max(1, InferenceStripCells / Math.Max(1, outCols));
        var d = new[] { dilation, dilation };
        if (is_grad_enabled() || (into is null && outRows <= strip)) return nn.functional.conv2d(input, weight, bias, dilation: d);
        var output = into ?? empty(new[] { input.shape[0], weight.shape[0], outRows, outCols }, dtype: input.dtype, device: input.device);
        for (long r = 0; r < outRows; r += strip)
        {
            long n = Math.Min(strip, outRows - r);
            using var y = nn.functional.conv2d(input.narrow(2, r, n + k), weight, bias, dilation: d);
            if (accumulate) output.narrow(2, r, n).add_(y, KeptScalar.One); else output.narrow(2, r, n).copy_(y);
        }
        return output;
    }

    /// <summary>
    /// Batch normalisation of packed symmetric maps with statistics equal to dense BN over the full L×L maps (or over
    /// each sequence's valid L_b×L_b block with a mask): canonical off-diagonal cells count twice (the entry and its
    /// mirror), canonical diagonal cells once, every other cell not at all. Output is masked when a mask is given.
    /// </summary>
    /// <param name="x">Packed data (blocks, batch, channels, rows, cols) in the layout's block form.</param>
    /// <param name="gamma">Per-channel scale, or null for none.</param>
    /// <param name="beta">Per-channel shift, or null for none.</param>
    /// <param name="mean">Per-channel mean of the weighted statistics.</param>
    /// <param name="invstd">Per-channel 1/sqrt(var + eps) of the weighted statistics.</param>
    /// <param name="mask">Packed block mask of valid cells (per sequence length), or null when every cell is valid.</param>
    /// <param name="layout">The packed layout the data is stored in.</param>
    /// <param name="count">The dense element count per channel the statistics stand for (B·L² or Σ L_b²).</param>
    /// <param name="fillRing">Also fill the output's non-canonical cells from their canonical cells (and zero outside the
    /// map), so the output is a ready canvas for the next convolution (no gather copy). The backward folds the adjoint
    /// of the fill into its sums with ring-sized gathers and never modifies the incoming gradient.</param>
    internal static Tensor BatchNormTrain(Tensor x, Tensor? gamma, Tensor? beta, Tensor mean, Tensor invstd, Tensor? mask, PackedLayout layout, double count, bool fillRing) =>
        BatchNormFunction.apply(x, gamma, beta, mean, invstd, mask, layout, count, fillRing);

    /// <summary>
    /// Fills, in place, every non-canonical cell of blocks (P, B, C, R, C) with its canonical value and every cell outside
    /// the map with zero (the ring of a halo-0 plan): afterwards the data is <see cref="PackedSymmetricMap.HaloFilled"/>.
    /// </summary>
    internal static void FillRing(Tensor y, HaloPlan plan0)
    {
        var y3 = y.view(y.shape[0], y.shape[1] * y.shape[2], plan0.Rows * plan0.Cols);
        CopyRing(y3, y3, plan0);
    }

    /// <summary>x at the weight-exception cells: (E, B, C).</summary>
    private static Tensor AtExceptions(Tensor x, Tensor block, Tensor offset)
    {
        long p = x.shape[0], b = x.shape[1], c = x.shape[2];
        return x.reshape(p, b, c, -1).index(TensorIndex.Tensor(block), TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Tensor(offset));
    }

    /// <summary>
    /// Weighted per-channel mean and biased variance of packed maps (no grad), and the weighted count N
    /// (B·L² without a mask, Σ_b L_b² with the block mask). Computed on shifted data d = x − K with K per channel the
    /// entry (0, 0) of the first map (valid under any mask): the float32 sums then carry the spread, not the offset, so
    /// the variance keeps its digits when |mean| ≫ std (raw Σx²/N − mean² would lose them all).
    /// </summary>
    internal static (Tensor Mean, Tensor Var, double Count) WeightedStats(Tensor x, PackedLayout layout, Tensor? mask = null)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long p = x.shape[0], b = x.shape[1], c = x.shape[2];
        var (eb, eo, deficit, weight) = layout.WeightExceptionsOn(x.device, x.dtype);
        long origin = layout.CanonicalCell(0, 0);
        var shift = x.select(0, origin / layout.BlockCells).select(0, 0).reshape(c, -1).select(1, origin % layout.BlockCells); // (C)
        var d = x.sub(shift.view(1, 1, c, 1, 1));
        if (mask is not null) d.mul_(mask);                                                       // M·(x − K) (M² = M)
        // cells of weight 0 (duplicates, outside the map) hold no entry: zeroed, so values far from K never enter the sums
        var de = AtExceptions(d, eb, eo).mul_(weight.gt(KeptScalar.Of(0)).to(d.dtype).view(-1, 1, 1));           // (E, B, C)
        d.view(p, b, c, -1).index_put_(de, TensorIndex.Tensor(eb), TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Tensor(eo));
        var d3 = d.view(p * b, c, -1);                                                            // contiguous inner reductions
        // Σ w·d = 2·Σd − Σ_exceptions (2 − w)·d: two cheap full reductions plus a small gather (var_mean measured ≈ 3×
        // slower than sum + vector_norm together here)
        var s1 = d3.sum(2).sum(new long[] { 0 }).to(ScalarType.Float64);
#pragma warning disable RS0030 // vector_norm converts its order inside TorchSharp (unprotected); kept because the recorded
                               // training fingerprints (refactor-guard.json) depend on its rounding, one call per forward
        var s2 = linalg.vector_norm(d3, 2, new long[] { 2 }).pow(KeptScalar.Of(2)).sum(new long[] { 0 }).to(ScalarType.Float64);
#pragma warning restore RS0030
        var de64 = de.to(ScalarType.Float64);
        // elementwise products and sums: a float64 einsum here measured 5× slower than the rest of the statistics together
        var dde = de64.mul(deficit.to(ScalarType.Float64).view(-1, 1, 1));
        var e1 = dde.sum(new long[] { 0, 1 });
        var e2 = dde.mul_(de64).sum(new long[] { 0, 1 });
        double count = mask is null ? (double)b * layout.Length * layout.Length
            // a model builds one mask per forward and every BN layer reuses it: one host read per forward, not per layer
            : MaskCounts.GetValue(mask, m => new StrongBox<double>(WeightedCount(m, layout))).Value;
        double n = Math.Max(count, 1);
        var shiftedMean = s1.mul(KeptScalar.Of(2)).sub(e1).div(KeptScalar.Of(n));
        var var_ = s2.mul(KeptScalar.Of(2)).sub(e2).div(KeptScalar.Of(n)).sub(shiftedMean.pow(KeptScalar.Of(2))).clamp_min(KeptScalar.Of(0));
        var mean = shiftedMean.add(shift.to(ScalarType.Float64), KeptScalar.One);
        return (mean.to(x.dtype).MoveToOuterDisposeScope(), var_.to(x.dtype).MoveToOuterDisposeScope(), count);
    }

    private static readonly ConditionalWeakTable<Tensor, StrongBox<double>> MaskCounts = new();

    /// <summary>Σ w·M over a packed block mask: the number of dense entries (Σ_b L_b²) the mask stands for.</summary>
    private static double WeightedCount(Tensor mask, PackedLayout layout)
    {
        using var scope = NewDisposeScope();
        var (eb, eo, deficit, _) = layout.WeightExceptionsOn(mask.device, mask.dtype);
        var me = AtExceptions(mask, eb, eo).to(ScalarType.Float64);                                 // (E, B, 1)
        return 2 * mask.sum().to(ScalarType.Float64).item<double>() - einsum("e,ebc->", deficit.to(ScalarType.Float64), me).item<double>();
    }

    internal sealed class BatchNormFunction : autograd.SingleTensorFunction<BatchNormFunction>
    {
        public override string Name => "PackedBatchNorm";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = ((Tensor)vars[0]).contiguous();
            var gamma = vars[1] as Tensor;
            var beta = vars[2] as Tensor;
            var mean = (Tensor)vars[3];
            var invstd = (Tensor)vars[4];
            var mask = vars[5] as Tensor;
            var layout = (PackedLayout)vars[6];
            double count = (double)vars[7];
            bool fill = (bool)vars[8];
            long c = x.shape[2];
            var saved = new List<Tensor> { x, gamma ?? ones(c, dtype: x.dtype, device: x.device), mean, invstd };
            if (mask is not null) saved.Add(mask);
            ctx.save_for_backward(saved);
            ctx.save_data("count", count);
            ctx.save_data("affine", gamma is not null);
            ctx.save_data("layout", layout);
            ctx.save_data("fill", fill);
            GradientHandoff.ReleaseHandedOff();
            using var scope = NewDisposeScope();
            var scale = gamma is null ? invstd : invstd.mul(gamma);
            var shift = (beta is null ? zeros_like(mean) : beta).sub(mean.mul(scale));
            var y = addcmul(shift.view(1, 1, c, 1, 1), x, scale.view(1, 1, c, 1, 1), KeptScalar.Of(1.0));
            if (mask is not null) y.mul_(mask);
            if (fill) FillRing(y, layout.Halo(0));
            return GradientHandoff.HandOff(y);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            Tensor x = saved[0], gamma = saved[1], mean = saved[2], invstd = saved[3];
            Tensor? mask = saved.Count > 4 ? saved[4] : null;
            double n = Math.Max((double)ctx.get_data("count"), 1);
            bool affine = (bool)ctx.get_data("affine");
            var layout = (PackedLayout)ctx.get_data("layout");
            long p = x.shape[0], nb = x.shape[1], c = x.shape[2];
            bool fill = (bool)ctx.get_data("fill");
            var dev = x.device;
            // The fill's adjoint G ↦ G_eff (non-canonical cells' gradients moved onto their canonical cells): with a mask,
            // M·g is our own tensor and takes it in place; without, g is the caller's gradient (possibly shared with other
            // nodes), so it is never written: the sums below get ring-sized corrections and dx a final scatter-add.
            HaloPlan? plan0 = fill ? layout.Halo(0) : null;
            Tensor g;
            Tensor? ringVals = null;
            if (mask is not null)
            {
                g = grad.mul(mask).contiguous();                                                       // g' = M·g
                if (plan0 is not null) g = RingAdjoint(g, plan0, gradIsOwned: true);
            }
            else
            {
                g = grad.contiguous();
                if (plan0 is not null && plan0.RingQ.Length > 0)
                    ringVals = g.view(p, nb * c, -1).index(TensorIndex.Tensor(plan0.Idx2(plan0.AdjQ, p, dev)), TensorIndex.Colon,
                        TensorIndex.Tensor(plan0.Idx2(plan0.AdjPos, p, dev))).mul_(plan0.AdjW(dev, g.dtype, p));   // (P, width, BC)
            }
            var g3 = g.view(p * nb, c, -1);
            // centred input x − mean: Σ g·x − mean·Σ g would cancel catastrophically when |mean| ≫ std (as the forward
            // statistics would); this buffer becomes dx's below, so centring costs no memory
            var xc = x.sub(mean.view(1, 1, c, 1, 1));
            var x3 = xc.view(p * nb, c, -1);
            // gradients reach canonical cells only, each standing for its entry and the mirror: plain sums are the dense sums
            var dbeta = g3.sum(2).sum(new long[] { 0 });                                                 // Σ g
            var sgx = einsum("nce,nce->nc", g3, x3).sum(new long[] { 0 });                               // Σ g·(x − mean) without a product buffer
            Tensor? srcIdx = null;
            if (mask is null && plan0 is not null)
            {
                // Σ G_eff = Σ g − Σ_dead g + Σ_ring g,  Σ G_eff·x = Σ g·x − Σ_dead g·x + Σ_ring g·x[source] (x centred)
                var gp = g.view(p, nb * c, -1);
                var xp = xc.view(p, nb * c, -1);
                if (plan0.DeadQ.Length > 0)
                {
                    var dq = TensorIndex.Tensor(plan0.Idx(plan0.DeadQ, dev));
                    var doff = TensorIndex.Tensor(plan0.Idx(plan0.DeadOff, dev));
                    var gd = gp.index(dq, TensorIndex.Colon, doff).view(-1, nb, c);
                    var xd = xp.index(dq, TensorIndex.Colon, doff).view(-1, nb, c);
                    dbeta = dbeta.sub(gd.sum(new long[] { 0, 1 }));
                    sgx = sgx.sub(gd.mul(xd).sum(new long[] { 0, 1 }));               // small: elementwise beats einsum here
                }
                if (ringVals is not null)
                {
                    long width = plan0.AdjWidth;
                    srcIdx = plan0.Idx2(plan0.AdjOff, p, dev);
                    var blocks = KeptScalar.Range(p, dtype: ScalarType.Int64, device: dev).view(p, 1).expand(p, width);
                    var xs = xp.index(TensorIndex.Tensor(blocks), TensorIndex.Colon, TensorIndex.Tensor(srcIdx)).view(p, width, nb, c);
                    var rv = ringVals.view(p, width, nb, c);
                    dbeta = dbeta.add(rv.sum(new long[] { 0, 1, 2 }), KeptScalar.One);
                    sgx = sgx.add(rv.mul(xs).sum(new long[] { 0, 1, 2 }), KeptScalar.One);
                }
            }
            var dgamma = sgx.mul(invstd);                                                                // Σ g·x̂
            // dx = γ·invstd·(g − w·M·(dβ + x̂·dγ)/N) = a·g + w·M·(b·(x − mean) + c0), w = 2 except at the layout's exceptions
            var a = gamma.mul(invstd);
            var bcoef = a.mul(invstd).mul(dgamma).div(KeptScalar.Of(-n));
            var c0 = a.mul(dbeta).div(KeptScalar.Of(-n));
            var (eb, eo, _, ew) = layout.WeightExceptionsOn(x.device, x.dtype);
            var xe = eb.shape[0] > 0 ? AtExceptions(xc, eb, eo) : null;                                 // (E, B, C), read before xc becomes dx
            var t = xc.mul_(bcoef.mul(KeptScalar.Of(2)).view(1, 1, c, 1, 1)).add_(c0.mul(KeptScalar.Of(2)).view(1, 1, c, 1, 1), KeptScalar.One);
            if (mask is not null) t.mul_(mask);
            var dx = t.addcmul_(g, a.view(1, 1, c, 1, 1), KeptScalar.Of(1.0));
            // exceptions (diagonal w = 1, non-canonical w = 0) written exactly, so cells nobody reads get exactly zero
            if (xe is not null)
            {
                var ge = AtExceptions(g, eb, eo);
                var we = ew.view(-1, 1, 1);
                if (mask is not null) we = we.mul(AtExceptions(mask, eb, eo));                        // (E, B, 1)
                if (ringVals is not null) ge = ge.mul(ew.gt(KeptScalar.Of(0)).to(ge.dtype).view(-1, 1, 1));              // G_eff = 0 at dead cells (all weight 0)
                var corr = xe.mul(bcoef).add_(c0, KeptScalar.One).mul_(we).addcmul_(ge, a, KeptScalar.Of(1.0));
                dx.view(p, nb, c, -1).index_put_(corr, TensorIndex.Tensor(eb), TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Tensor(eo));
            }
            if (ringVals is not null)
            {
                // the ring gradients land on their canonical sources: dx += a·g_ring there (linear in g)
                var scaled = ringVals.mul(a.repeat(nb).view(1, 1, nb * c));
                var offs = srcIdx!.unsqueeze(1).expand(p, nb * c, plan0!.AdjWidth);
                dx.view(p, nb * c, -1).scatter_add_(2, offs, scaled.permute(0, 2, 1));
            }
            grad.Dispose(); // the wrapper TorchSharp made for us would otherwise live in the caller's scope
            GradientHandoff.ReleaseHandedOff();
            Tensor? dg = null, db = null;
            if (affine) { dg = GradientHandoff.HandOff(dgamma); db = GradientHandoff.HandOff(dbeta); }
            return new List<Tensor> { GradientHandoff.HandOff(dx), dg!, db!, null!, null!, null!, null!, null!, null! };
        }
    }
}
