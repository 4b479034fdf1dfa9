using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers;

/// <summary>
/// Valid 2-D cross-correlation (what <c>conv2d</c> computes: no padding, stride and dilation 1) by tiled FFTs
/// (overlap-save). The output is cut into T×T tiles; each tile's input window of N = T + k − 1 cells a side is
/// transformed, and y[b,o] = irfft2( Σ_i rfft2(x_window[b,i]) · conj(rfft2(w[o,i], N)) ) on the tile's first T×T cells.
/// There the circular correlation Σ_u x[(y+u) mod N]·w[u] never wraps (y + u ≤ T − 1 + k − 1 = N − 1), so it is the
/// direct convolution's sum, computed in another order: measured against float64, its fp32 error is several times
/// smaller than the direct fp32 convolution's (the transforms' rounding grows with log N, not with k²·Cin).
/// Why: directly a k×k kernel costs k² multiply-adds per output cell and channel pair; in the frequency domain it costs
/// one complex product per frequency (≈ N²/(2T²) per cell) plus the transforms, whose cost does not grow with k. Measured
/// here (40 → 50 channels, 146 × 268 maps, forward + backward): 0.34 of direct at k = 13, 0.69 at k = 9, slower below 9.
/// </summary>
public static class FourierConvolution
{
    /// <summary>
    /// Default bound on the transient memory of a call: samples are transformed in chunks whose spectra fit this many
    /// bytes. At the RNA network's crop 256, batch 4, one chunk is the whole batch (≈ 51 MB a spectra tensor): 16 MiB
    /// chunks lowered the step's live peak from 1,135 to 1,000 MB but cost 30 % of the step (fewer rows per product).
    /// </summary>
    public const long DefaultChunkBytes = 64L << 20;

    /// <summary>
    /// The transform size N of a tile side for a k×k kernel whose output's shorter side is <paramref name="outputSide"/>:
    /// 32 for kernels up to 9×9 and for short outputs (≤ 96 cells a side: N = 64 would compute up to twice the
    /// outputs in partial tiles), else 64 (128 for kernels over 25). Measured, two threads, 4 maps of 40 → 50 channels,
    /// forward + backward: 13×13 on a 64 × 128 output 84 ms at N = 32 against 178 at 64; on 134 × 256, 572 against 421;
    /// 9×9 (50 → 40) 70 against 143 and 378 against ≈ 600 (one thread). A fixed rule, not a timed choice, so results
    /// do not depend on the machine's load.
    /// </summary>
    public static long TileTransformSize(long kernel, long outputSide = long.MaxValue) =>
        kernel > 25 ? 128 : kernel <= 9 || outputSide <= 96 ? 32 : 64;

    /// <summary>
    /// Valid cross-correlation of <paramref name="input"/> (B, Cin, H, W) with <paramref name="weight"/> (Cout, Cin, k, k)
    /// plus <paramref name="bias"/>: (B, Cout, H − k + 1, W − k + 1), equal to <c>conv2d(input, weight, bias)</c>.
    /// Under autograd only the input and the kernel are kept for the backward, as the direct convolution keeps, not their
    /// spectra: the backward transforms the input again (one transform) instead of holding ≈ 2× the input per layer.
    /// </summary>
    /// <param name="input">(B, Cin, H, W).</param>
    /// <param name="weight">(Cout, Cin, k, k).</param>
    /// <param name="bias">(Cout) or null.</param>
    /// <param name="transformSize">The tile transform size N (default <see cref="TileTransformSize"/>).</param>
    /// <param name="chunkBytes">Bound on one chunk's spectra (<see cref="DefaultChunkBytes"/>); results do not depend on it.</param>
    public static Tensor Valid(Tensor input, Tensor weight, Tensor? bias = null, long? transformSize = null, long chunkBytes = DefaultChunkBytes)
    {
        if (weight.dim() != 4) throw new ArgumentException($"Fourier convolution: a kernel (O, C, k, k) expected, got {Shape(weight)}.", nameof(weight));
        var plan = Tiling.Of(input, weight.shape, transformSize
            ?? TileTransformSize(weight.shape[2], input.dim() == 4 ? Math.Min(input.shape[2], input.shape[3]) - weight.shape[2] + 1 : 0)) with { ChunkBytes = chunkBytes };
        bool tracked = is_grad_enabled() && (input.requires_grad || weight.requires_grad || bias?.requires_grad == true);
        if (tracked) return ValidFunction.apply(input, weight, bias, plan);
        using var scope = NewDisposeScope();
        return Correlate(input, plan.CorrelationKernel(weight), bias, plan).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// 'Same' convolutions of one input by several odd kernels (branches), outputs concatenated on channels, as one
    /// kernel: each branch's kernel zero-padded, centred, to the widest. Correlating a region with a margin of the widest
    /// reach by it equals every branch's 'same' output over that region. Biases are concatenated (a missing one is zero;
    /// null when none has one).
    /// </summary>
    public static (Tensor Weight, Tensor? Bias) MergeCentred(IReadOnlyList<(Tensor Weight, Tensor? Bias)> branches)
    {
        if (branches.Count == 0) throw new ArgumentException("Fourier convolution: no branches to merge.", nameof(branches));
        long widest = branches.Max(b => b.Weight.shape[2]);
        foreach (var (w, _) in branches)
            if (w.dim() != 4 || w.shape[2] != w.shape[3] || w.shape[2] % 2 == 0 || w.shape[1] != branches[0].Weight.shape[1])
                throw new ArgumentException($"Fourier convolution: branches need square odd kernels over the same input channels, got {Shape(w)}.", nameof(branches));
        var weights = branches.Select(b => { long p = (widest - b.Weight.shape[2]) / 2; return p == 0 ? b.Weight.alias() : nn.functional.pad(b.Weight, new[] { p, p, p, p }); }).ToArray();
        var weight = weights.Length == 1 ? weights[0] : cat(weights, 0);
        if (weights.Length > 1) foreach (var w in weights) w.Dispose();
        if (branches.All(b => b.Bias is null)) return (weight, null);
        var biases = branches.Select(b => b.Bias?.alias() ?? zeros(b.Weight.shape[0], dtype: b.Weight.dtype, device: b.Weight.device)).ToArray();
        var bias = cat(biases, 0);
        foreach (var b in biases) b.Dispose();
        return (weight, bias);
    }

    /// <summary>
    /// A kernel transformed once for many inference calls (row strips of a long map, without autograd): the kernel's
    /// transform is a third of a strip's work at 13×13, 50 × 40 channels.
    /// </summary>
    public sealed class Prepared : IDisposable
    {
        private readonly Tensor spectra;   // (N·F, Cin, Cout), conjugated
        private readonly Tensor? bias;
        private readonly long[] shape;
        private readonly long n;

        /// <param name="weight">The kernel (Cout, Cin, k, k).</param>
        /// <param name="bias">The bias (Cout), or null.</param>
        /// <param name="transformSize">The tile transform size (default <see cref="TileTransformSize"/>).</param>
        public Prepared(Tensor weight, Tensor? bias, long? transformSize = null)
        {
            if (weight.dim() != 4) throw new ArgumentException($"Fourier convolution: a kernel (O, C, k, k) expected, got {Shape(weight)}.", nameof(weight));
            shape = weight.shape;
            n = transformSize ?? TileTransformSize(shape[2]);
            using (no_grad())
            {
                spectra = new Tiling(1, shape[1], shape[0], shape[2], shape[2], shape[2], n).CorrelationKernel(weight).DetachFromDisposeScope();
                this.bias = bias?.detach().DetachFromDisposeScope();
            }
        }

        /// <summary>The kernel's side k: a valid correlation shrinks each side by k − 1.</summary>
        public long KernelSize => shape[2];

        /// <summary>Output cells a tile side (N − k + 1): inputs whose output side is a multiple of it waste no transform.</summary>
        public long OutputTile => n - shape[2] + 1;

        /// <summary>
        /// Rows per inference strip for a direct strip of <paramref name="directRows"/>: rounded up to whole tiles, since
        /// a partial tile costs a whole one.
        /// </summary>
        public long StripRows(long directRows) => OutputTile * Math.Max(1, (directRows + OutputTile - 1) / OutputTile);

        /// <summary><see cref="Valid"/> without autograd, with the kernel's transform reused.</summary>
        public Tensor Correlate(Tensor input)
        {
            if (is_grad_enabled() && input.requires_grad) throw new InvalidOperationException("Fourier convolution: a prepared kernel is for inference (no autograd).");
            using var scope = NewDisposeScope();
            return FourierConvolution.Correlate(input, spectra, bias, Tiling.Of(input, shape, n)).MoveToOuterDisposeScope();
        }

        public void Dispose() { spectra.Dispose(); bias?.Dispose(); }
    }

    /// <summary>The tile grid of one call: transform size N, tile T = N − k + 1 outputs a side, tiles per side.</summary>
    private sealed record Tiling(long Batch, long InChannels, long OutChannels, long Height, long Width, long Kernel, long N)
    {
        public long T => N - Kernel + 1;
        public long F => N / 2 + 1;
        public long OutHeight => Height - Kernel + 1;
        public long OutWidth => Width - Kernel + 1;
        public long TilesHigh => (OutHeight + T - 1) / T;
        public long TilesWide => (OutWidth + T - 1) / T;
        public long Tiles => Batch * TilesHigh * TilesWide;

        public static Tiling Of(Tensor input, long[] kernel, long n)
        {
            if (input.dim() != 4 || kernel.Length != 4 || kernel[1] != input.shape[1] || kernel[2] != kernel[3])
                throw new ArgumentException($"Fourier convolution: input (B, C, H, W) and a square kernel (O, C, k, k) with matching C expected, got {Shape(input)} and ({string.Join(", ", kernel)}).");
            var plan = new Tiling(input.shape[0], input.shape[1], kernel[0], input.shape[2], input.shape[3], kernel[2], n);
            if (plan.OutHeight <= 0 || plan.OutWidth <= 0)
                throw new ArgumentException($"Fourier convolution: a {plan.Kernel}×{plan.Kernel} kernel does not fit a {plan.Height}×{plan.Width} input.");
            if (plan.T < 1) throw new ArgumentException($"Fourier convolution: transform size {n} is smaller than the kernel {plan.Kernel}.");
            return plan;
        }

        /// <summary>Bound on one chunk's spectra in bytes (<see cref="DefaultChunkBytes"/>).</summary>
        public long ChunkBytes { get; init; } = DefaultChunkBytes;

        /// <summary>
        /// Samples per chunk so a chunk's spectra (tiles × max(Cin, Cout) × N·F complex) stay within
        /// <see cref="ChunkBytes"/>: the transient memory of a call is bounded by the chunk, not the batch.
        /// </summary>
        public long SamplesPerChunk => Math.Clamp(ChunkBytes / Math.Max(1, TilesHigh * TilesWide * Math.Max(InChannels, OutChannels) * N * F * 8), 1, Batch);

        /// <summary>The batch in chunks of <see cref="SamplesPerChunk"/> samples: each chunk's first sample and its tiling.</summary>
        public IEnumerable<(long Start, Tiling Plan)> Chunks()
        {
            for (long b0 = 0, chunk = SamplesPerChunk; b0 < Batch; b0 += chunk)
                yield return (b0, this with { Batch = Math.Min(chunk, Batch - b0) });
        }

        /// <summary>Spectra of the input's overlapping N×N windows at stride T, one row per tile: (N·F, tiles, Cin).</summary>
        public Tensor InputSpectra(Tensor input) => Scoped(() =>
            FrequencyRows(WindowSpectra(input, Kernel - 1, N, TilesHigh, TilesWide), InChannels));   // from (B, Cin, tH, tW, N, F)

        /// <summary>Spectra of the output gradient's T×T tiles, zero-padded to N×N: (N·F, tiles, Cout).</summary>
        public Tensor GradientSpectra(Tensor grad) => Scoped(() =>
            FrequencyRows(WindowSpectra(grad, 0, T, TilesHigh, TilesWide, N), OutChannels));          // from (B, Cout, tH, tW, N, F)

        /// <summary>
        /// Window spectra (B, C, tH, tW, N, F) as per-frequency rows (N·F, tiles, C), always compact: for one sample the
        /// permuted reshape is a strided view, and libtorch's batched complex product on a strided operand takes a slow
        /// path on one thread (measured, 2 threads, one 1,526-nt inference strip, 2,112 products of (30 × 40)·(40 × 50):
        /// 23.6 ms, against 2.7 ms for the copy and 8.5 ms for the product).
        /// </summary>
        private Tensor FrequencyRows(Tensor spectra, long channels) => Scoped(() =>
            spectra.permute(4, 5, 0, 2, 3, 1).reshape(N * F, Tiles, channels).contiguous());

        /// <summary>
        /// rfft2 of the windows of side <paramref name="window"/> at stride T (overlapping by <paramref name="overlap"/>),
        /// zero-padded at the bottom and right so the last tiles are whole, each transformed at size <paramref name="size"/>.
        /// </summary>
        private Tensor WindowSpectra(Tensor x, long overlap, long window, long tilesHigh, long tilesWide, long? size = null) => Scoped(() =>
        {
            var padded = nn.functional.pad(x, new[] { 0, tilesWide * T + overlap - x.shape[3], 0, tilesHigh * T + overlap - x.shape[2] });
            var windows = padded.unfold(2, window, T).unfold(3, window, T);
            return size is long s ? fft.rfft2(windows, s: new[] { s, s }) : fft.rfft2(windows);
        });

        /// <summary>Spectra of the kernels zero-padded to N×N: (N·F, Cout, Cin).</summary>
        public Tensor KernelSpectra(Tensor weight) => Scoped(() => fft.rfft2(weight, s: new[] { N, N }).permute(2, 3, 0, 1).reshape(N * F, OutChannels, InChannels));

        /// <summary>
        /// The conjugated kernel spectra, transposed for the forward product: (N·F, Cin, Cout), the conjugation
        /// materialised — a lazily conjugated operand sends libtorch's batched complex product down a path 3× slower
        /// that does not use the second thread (measured: 65 vs 22 ms one thread, 78 vs 11 ms two, crop 128, 13×13).
        /// </summary>
        public Tensor CorrelationKernel(Tensor weight) => Scoped(() =>
            fft.rfft2(weight, s: new[] { N, N }).permute(2, 3, 1, 0).reshape(N * F, InChannels, OutChannels).conj().resolve_conj().contiguous());

        /// <summary>Back from per-frequency rows (N·F, tiles, C) to the T×T tile outputs laid out as a map (B, C, tH·T, tW·T).</summary>
        public Tensor TilesToMap(Tensor rows, long channels) => Scoped(() =>
            InverseTiles(rows, channels).narrow(4, 0, T).narrow(5, 0, T).permute(0, 1, 2, 4, 3, 5).reshape(Batch, channels, TilesHigh * T, TilesWide * T));

        /// <summary>irfft2 of per-frequency rows (N·F, tiles, C): every tile's N×N window, (B, C, tH, tW, N, N).</summary>
        public Tensor InverseTiles(Tensor rows, long channels) => Scoped(() =>
            fft.irfft2(rows.view(N, F, Batch, TilesHigh, TilesWide, channels).permute(2, 5, 3, 4, 0, 1), s: new[] { N, N }));
    }

    /// <summary>y = Σ_i x_i ⋆ w_{o,i} per tile, in the frequency domain (see the class comment); <paramref name="kernel"/> from <see cref="Tiling.CorrelationKernel"/>.</summary>
    private static Tensor Correlate(Tensor input, Tensor kernel, Tensor? bias, Tiling p)
    {
        if (p.SamplesPerChunk < p.Batch)
        {
            var outputs = p.Chunks().Select(c => Correlate(input.narrow(0, c.Start, c.Plan.Batch), kernel, bias, c.Plan)).ToList();
            var whole = cat(outputs, 0);
            foreach (var o in outputs) o.Dispose();
            return whole;
        }
        // every intermediate is freed as soon as the next exists: at full length each is tens of MB
        Tensor products;
        using (var spectra = p.InputSpectra(input)) products = bmm(spectra, kernel);                 // (N·F, tiles, Cout)
        using var map = p.TilesToMap(products, p.OutChannels);
        products.Dispose();
        // a compact copy (the tiles' map is freed with it), with the bias added in place
        var y = Scoped(() => map.narrow(2, 0, p.OutHeight).narrow(3, 0, p.OutWidth).contiguous());
        return bias is null ? y : y.add_(bias.view(1, p.OutChannels, 1, 1), KeptScalar.One);
    }

    /// <summary>
    /// The correlation as one autograd node. With g the output gradient cut into T×T tiles, G its spectra zero-padded to
    /// N×N, X the input windows' spectra and W the kernels': ∂x = overlap-add of irfft2(G·W) over the windows (a full
    /// convolution; no wrap-around, since a kernel offset u &lt; k and a tile offset y &lt; T keep u − y within (−T, k)),
    /// ∂w = first k×k cells of irfft2(Σ_tiles conj(G)·X) (a correlation), ∂b = Σ g.
    /// </summary>
    private sealed class ValidFunction : autograd.SingleTensorFunction<ValidFunction>
    {
        public override string Name => "FourierValidConvolution";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            Tensor input = (Tensor)vars[0], weight = (Tensor)vars[1];
            var bias = vars[2] as Tensor;
            var plan = (Tiling)vars[3];
            ctx.save_for_backward(new List<Tensor> { input, weight });
            ctx.save_data("plan", plan);
            ctx.save_data("bias", bias is not null);
            GradientHandoff.ReleaseHandedOff();
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            return GradientHandoff.HandOff(Correlate(input, plan.CorrelationKernel(weight), bias, plan));
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
        {
            var saved = ctx.get_saved_variables();
            Tensor input = saved[0], weight = saved[1];
            var p = (Tiling)ctx.get_data("plan");
            bool hasBias = (bool)ctx.get_data("bias");
            GradientHandoff.ReleaseHandedOff();
            using var scope = NewDisposeScope();
            long t = p.T, n = p.N;
            var gx = empty_like(input);
            using var w = p.KernelSpectra(weight);                                                      // (N·F, Cout, Cin)
            Tensor? wSpectra = null;                                                                     // Σ over chunks, (N·F, Cout, Cin)
            // chunks of samples bound the transient spectra; within one, intermediates are freed as soon as the next exists
            foreach (var (b0, q) in p.Chunks())
            {
                long nb = q.Batch;
                var gSpectra = q.GradientSpectra(grad.narrow(0, b0, nb));                               // (N·F, tiles, Cout)
                // ∂w: per frequency (Cout × tiles)·(tiles × Cin) summed over tiles
                using (var gConj = Scoped(() => gSpectra.transpose(1, 2).conj().resolve_conj()))
                using (var x = q.InputSpectra(input.narrow(0, b0, nb)))
                {
                    if (wSpectra is null) wSpectra = bmm(gConj, x);
                    else { using var part = bmm(gConj, x); wSpectra.add_(part, KeptScalar.One); }
                }
                // ∂x: per frequency (tiles × Cout)·(Cout × Cin), then the windows' overlap-add (fold sums overlapping windows)
                Tensor windowGrads;
                using (gSpectra)
                using (var rows = bmm(gSpectra, w))
                    windowGrads = q.InverseTiles(rows, q.InChannels);                                     // (b, Cin, tH, tW, N, N)
                Tensor columns;
                using (windowGrads) columns = Scoped(() => windowGrads.permute(0, 1, 4, 5, 2, 3).reshape(nb, q.InChannels * n * n, q.TilesHigh * q.TilesWide));
                Tensor sum;
                using (columns) sum = nn.functional.fold(columns, (q.TilesHigh * t + q.Kernel - 1, q.TilesWide * t + q.Kernel - 1), (n, n), stride: (t, t));
                using (sum) Scoped(() => gx.narrow(0, b0, nb).copy_(sum.narrow(2, 0, q.Height).narrow(3, 0, q.Width)));
            }
            // back to N×N, the first k×k offsets
            Tensor gw;
            using (wSpectra)
            using (var full = fft.irfft2(wSpectra!.view(n, p.F, p.OutChannels, p.InChannels).permute(2, 3, 0, 1), s: new[] { n, n }))
                gw = full.narrow(2, 0, p.Kernel).narrow(3, 0, p.Kernel).contiguous();
            var gb = hasBias ? grad.sum(new long[] { 0, 2, 3 }) : null;
            return new List<Tensor> { GradientHandoff.HandOff(gx), GradientHandoff.HandOff(gw),
                                      gb is null ? null! : GradientHandoff.HandOff(gb), null! };
        }
    }

    /// <summary>
    /// <paramref name="f"/>'s result, with every other tensor it created freed now. Views matter here: a view left in the
    /// caller's scope keeps its base's storage (tens of MB of spectra) alive after the base is disposed — at crop 256 such
    /// views held about 360 MB at the training step's peak (the tensor arena's live blocks, traced to their call sites).
    /// </summary>
    private static Tensor Scoped(Func<Tensor> f)
    {
        using var scope = NewDisposeScope();
        return f().MoveToOuterDisposeScope();
    }

    private static string Shape(Tensor t) => "(" + string.Join(", ", t.shape) + ")";
}
