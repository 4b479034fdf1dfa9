using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise.Network;

/// <summary>
/// Full-length inference of a symmetric <see cref="PairNetwork"/> (eval, no autograd, one sequence, no pair features)
/// that never holds a whole map: every layer's map is produced in row bands of the upper triangle, and the layers run as
/// a pipeline over the bands, so each layer keeps only the rows the next one still reads.
/// <para>Band a of a map holds rows [aT, aT + T) and columns [aT, L): the upper triangle plus the lower half of its
/// diagonal block (computed like any cell: same sums, by symmetry equal to their mirrors). A convolution of reach h
/// turns bands a − 1 (its last h rows), a and a + 1 (its first h rows) of its input into band a of its output: it reads
/// the window rows [aT − h, aT + T + h) × columns [aT − h, L + h), zero outside the map. The window's cells left of a
/// band's first column lie below the diagonal inside the window's leading square, so they are the transposes of its
/// upper cells: the square is symmetrised (SCNN Theorem 2: every map is symmetric) and the rest is copied from the bands.</para>
/// <para>Memory: per layer about T + h rows of the map instead of all L, plus one window and the convolution's transients
/// (column chunks of at most <see cref="Packed.PackedFunctions.DefaultInferenceStripCells"/> direct outputs, or four
/// times that in whole FFT tiles). At 1,526 nt the paper network peaks at 237 MB of tensors instead of 361 MB on one
/// folded map per layer, in the same time. Work: that of the upper triangle plus a T×T half-block per band.</para>
/// </summary>
public static class StreamedPairInference
{
    /// <summary>Whether <paramref name="network"/> can run streamed: symmetric (every map is), without pair features.</summary>
    public static bool Supports(PairNetwork network) => network.Symmetric && network.Spec.PairFeatures == 0;

    /// <summary>
    /// Logits (out, L, L) of one sequence given as features (1, L, n). The network is switched to eval mode and restored.
    /// </summary>
    /// <param name="network">A symmetric network without pair features (<see cref="Supports"/>).</param>
    /// <param name="input">Features (1, L, n) of one sequence.</param>
    /// <param name="bandRows">Rows T per band (default: <see cref="BandRows"/>); results do not depend on it beyond rounding.</param>
    public static Tensor Logits(PairNetwork network, Tensor input, long? bandRows = null)
    {
        if (!Supports(network))
            throw new ArgumentException("Streamed inference needs a symmetric network (SCNN) without pair features.", nameof(network));
        if (input.dim() != 3 || input.shape[0] != 1 || input.shape[2] != network.Spec.InputFeatures)
            throw new ArgumentException($"Streamed inference takes one sequence (1, L, {network.Spec.InputFeatures}), got [{string.Join(", ", input.shape)}].", nameof(input));
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var grad = no_grad();
            using var scope = NewDisposeScope();
            var pipeline = new Pipeline(network, input, bandRows ?? BandRows(network));
            return pipeline.Run().MoveToOuterDisposeScope();
        }
        finally { network.train(wasTraining); }
    }

    /// <summary>
    /// The band height: 48 rows, or the widest reach if larger. By FFTs each layer's tile transform is sized to the band
    /// (<see cref="TransformSize"/>), so no height wastes transforms; 48 balances the per-band halo against the bands'
    /// memory (at 1,526 nt: 2.08–2.19 s against 2.32–2.45 s with power-of-two transforms on 48-row bands).
    /// </summary>
    public static long BandRows(PairNetwork network) => Math.Max(48, network.Reach);

    /// <summary>
    /// The FFT tile size for a k×k kernel on bands of T rows: the smallest N ≥ T + k − 1 whose prime factors are 2, 3, 5
    /// and 7 (fast transforms), so one tile row of N − k + 1 outputs covers a band (60 and 56 for the paper network's
    /// 13×13 and 9×9 kernels on 48 rows).
    /// </summary>
    public static long TransformSize(long bandRows, long kernel)
    {
        for (long n = bandRows + kernel - 1; ; n++)
        {
            long m = n;
            foreach (long p in new long[] { 2, 3, 5, 7 }) while (m % p == 0) m /= p;
            if (m == 1) return n;
        }
    }

    /// <summary>One layer's map as bands: band a's data covers rows [RowStart, RowStart + rows) and columns [aT, L).</summary>
    private sealed class Level(long channels)
    {
        public long Channels { get; } = channels;
        public readonly Dictionary<long, (Tensor Data, long RowStart)> Bands = new();

        public void Add(long band, Tensor data, long rowStart) => Bands[band] = (data.DetachFromDisposeScope(), rowStart);

        public void Drop(long band)
        {
            if (Bands.Remove(band, out var b)) b.Data.Dispose();
        }

        /// <summary>Keeps only the last <paramref name="rows"/> rows of a band (all a later window reads of it).</summary>
        public void Trim(long band, long rows)
        {
            if (!Bands.TryGetValue(band, out var b) || b.Data.shape[2] <= rows) return;
            long drop = b.Data.shape[2] - rows;
            using var tail = b.Data.narrow(2, drop, rows);   // a view would keep the whole band's storage
            var kept = tail.clone().DetachFromDisposeScope();
            b.Data.Dispose();
            Bands[band] = (kept, b.RowStart + drop);
        }

        public void Clear()
        {
            foreach (var b in Bands.Values) b.Data.Dispose();
            Bands.Clear();
        }
    }

    /// <summary>A convolution layer of the pipeline: its kernels (transformed once when by FFTs), norm and activation.</summary>
    private sealed class ConvLayer : IDisposable
    {
        private readonly TiledPairInference.Branch[] branches;
        private readonly PairBatchNorm2d? norm;
        private readonly PairActivation? activation;
        private readonly FourierConvolution.Prepared? fourier;
        public long Halo { get; }
        public long OutChannels { get; }

        public ConvLayer(PairConvStage stage, long bandRows)
        {
            (branches, norm) = TiledPairInference.Parts(stage);
            activation = stage.Activation;
            Halo = branches.Max(b => b.Halo);
            OutChannels = stage.OutChannels;
            if (stage.UsesFourier)
            {
                var (w, bias) = FourierConvolution.MergeCentred(branches.Select(b => (b.Weight, b.Bias)).ToList());
                fourier = new FourierConvolution.Prepared(w, bias, TransformSize(bandRows, w.shape[2]));
                w.Dispose(); bias?.Dispose();
            }
        }

        /// <summary>Band output (1, Cout, rows, cols) of a window (1, Cin, rows + 2h, cols + 2h), in column chunks.</summary>
        public Tensor Apply(Tensor window)
        {
            long rows = window.shape[2] - 2 * Halo, cols = window.shape[3] - 2 * Halo;
            var output = empty(new[] { 1, OutChannels, rows, cols }, dtype: window.dtype, device: window.device);
            // chunks of whole FFT tiles (the tiling of one call; four times the direct bound, since a transform call
            // amortises better: 2.37 instead of 2.55 s for the paper network at 1,526 nt), or a bounded number of direct outputs
            long cells = Packed.PackedFunctions.DefaultInferenceStripCells;
            long chunk = fourier is not null
                ? fourier.OutputTile * Math.Max(1, 4 * cells / (rows * fourier.OutputTile))
                : Math.Max(1, cells / rows);
            ByColumns(output, chunk, (c, n, into) =>
            {
                var input = window.narrow(3, c, n + 2 * Halo);
                if (fourier is not null) { into.copy_(fourier.Correlate(input)); return; }
                long f0 = 0;
                foreach (var b in branches)
                {
                    into.narrow(1, f0, b.Weight.shape[0]).copy_(b.Apply(input, (int)(Halo - b.Halo)));
                    f0 += b.Weight.shape[0];
                }
            });
            var y = norm is null ? output : norm.forward(output, null);
            return TiledPairInference.Activate(y, activation);
        }

        public void Dispose() => fourier?.Dispose();
    }

    /// <summary>The layers, their bands and the schedule: band t of the encoders, band t − k of the k-th convolution layer.</summary>
    private sealed class Pipeline
    {
        private readonly PairNetwork network;
        private readonly long l, t, bands;
        private readonly Tensor features, onehot;

        public Pipeline(PairNetwork network, Tensor input, long bandRows)
        {
            this.network = network;
            l = input.shape[1];
            t = Math.Max(bandRows, Math.Max(1, network.Reach));
            bands = (l + t - 1) / t;
            features = network.SequenceFeatures(input).transpose(1, 2).contiguous();   // (1, n, L)
            onehot = input.transpose(1, 2).contiguous();
        }

        private long Start(long band) => band * t;
        private long Rows(long band) => Math.Min(t, l - band * t);

        public Tensor Run()
        {
            var logits = zeros(new[] { 1, network.Head.OutChannels, l, l }, dtype: features.dtype, device: features.device);
            if (l == 0) return logits[0];
            var layers = network.Stages.Select(s => new ConvLayer(s, t)).ToList();
            using var head = new ConvLayer(network.Head, t);
            var (encBranch, encNorm) = TiledPairInference.Parts(network.Encoder);
            var skipParts = network.Skip is null ? default : TiledPairInference.Parts(network.Skip);
            // levels[0] the encoder's map, levels[k] the k-th stage's; the skip map joins the last one at the head
            var levels = new List<Level> { new(network.Encoder.OutChannels) };
            levels.AddRange(layers.Select(x => new Level(x.OutChannels)));
            var skip = network.Skip is null ? null : new Level(network.Skip.OutChannels);
            try
            {
                int depth = layers.Count;
                // every band in its own dispose scope: a layer's window and temporaries go before the next layer runs
                for (long step = 0; step < bands + depth + 1; step++)
                {
                    using var stepScope = NewDisposeScope();   // views of trimmed bands
                    if (step < bands)
                    {
                        using (NewDisposeScope()) levels[0].Add(step, EncoderBand(network.Encoder, encBranch, encNorm, features, step), Start(step));
                        if (skip is not null)
                            using (NewDisposeScope()) skip.Add(step, EncoderBand(network.Skip!, skipParts.Branch, skipParts.Norm, onehot, step), Start(step));
                    }
                    for (int k = 1; k <= depth; k++)
                    {
                        long a = step - k;
                        if (a < 0 || a >= bands) continue;
                        var layer = layers[k - 1];
                        using (NewDisposeScope()) levels[k].Add(a, layer.Apply(Window(new[] { levels[k - 1] }, a, layer.Halo)), Start(a));
                        Release(levels[k - 1], a, layer.Halo);
                    }
                    long h = step - depth - 1;
                    if (h < 0 || h >= bands) continue;
                    var inputs = skip is null ? new[] { levels[depth] } : new[] { levels[depth], skip };
                    using (NewDisposeScope()) Place(logits, head.Apply(Window(inputs, h, head.Halo)), h);
                    foreach (var level in inputs) Release(level, h, head.Halo);
                }
                return logits[0];
            }
            finally
            {
                foreach (var level in levels) level.Clear();
                skip?.Clear();
                foreach (var layer in layers) layer.Dispose();
                foreach (var (u, v) in projections.Values) { u.Dispose(); v.Dispose(); }
            }
        }

        /// <summary>Once band a of the next layer exists, band a − 1 of its input is read by nothing and band a only by its last rows.</summary>
        private static void Release(Level level, long a, long halo)
        {
            level.Drop(a - 1);
            level.Trim(a, halo);
        }

        /// <summary>
        /// Band a of an encoder. A 1×1 generating kernel W = [W₁ W₂] over the self-Cartesian product gives
        /// Z[f, i, j] = (W₁x)[f, i] + (W₂x)[f, j] + bias_f (SCNN Theorem 1 without the product): two projections of the
        /// sequence, computed once, and a broadcast sum per band. Wider kernels build the product's band in column chunks.
        /// </summary>
        private Tensor EncoderBand(PairEncoder encoder, TiledPairInference.Branch branch, PairBatchNorm2d? norm, Tensor xt, long a)
        {
            long r0 = Start(a), rows = Rows(a), cols = l - r0;
            if (branch.Kernel == 1)
            {
                var (u, v) = Projections(branch, xt);
                var z = u.narrow(2, r0, rows).unsqueeze(3).add(v.narrow(2, r0, cols).unsqueeze(2), KeptScalar.One);   // (1, F, rows, cols)
                if (branch.Bias is not null) z.add_(branch.Bias.view(1, -1, 1, 1), KeptScalar.One);
                return TiledPairInference.Activate(norm is null ? z : norm.forward(z, null), encoder.Activation);
            }
            var output = empty(new[] { 1, encoder.OutChannels, rows, cols }, dtype: xt.dtype, device: xt.device);
            ByColumns(output, Math.Max(1, Packed.PackedFunctions.DefaultInferenceStripCells / rows), (c, n, into) =>
                into.copy_(TiledPairInference.EncoderTile(encoder, branch, norm, xt, l, (r0, r0 + rows), (r0 + c, r0 + c + n))));
            return output;
        }

        private readonly Dictionary<TiledPairInference.Branch, (Tensor U, Tensor V)> projections = new();

        /// <summary>(W₁x, W₂x) of a 1×1 generating kernel W (F, 2n, 1, 1) on the sequence (1, n, L): each (1, F, L), kept for the run.</summary>
        private (Tensor U, Tensor V) Projections(TiledPairInference.Branch branch, Tensor xt)
        {
            if (projections.TryGetValue(branch, out var uv)) return uv;
            long f = branch.Weight.shape[0], n = xt.shape[1];
            var w = branch.Weight.reshape(f, 2 * n);
            uv = (matmul(w.narrow(1, 0, n), xt).DetachFromDisposeScope(), matmul(w.narrow(1, n, n), xt).DetachFromDisposeScope());
            projections[branch] = uv;
            return uv;
        }

        /// <summary>
        /// The window rows [aT − h, aT + T + h) × columns [aT − h, L + h) of the channel concatenation of
        /// <paramref name="inputs"/>, zero outside the map: copied from bands a − 1, a, a + 1, its leading square symmetrised.
        /// </summary>
        private Tensor Window(IReadOnlyList<Level> inputs, long a, long halo)
        {
            long r0 = Start(a) - halo, rows = Rows(a) + 2 * halo, cols = l - Start(a) + 2 * halo;
            long channels = inputs.Sum(x => x.Channels);
            // every cell is written once: from a band, by the symmetrisation below, or as zero outside the map
            var window = empty(new[] { 1, channels, rows, cols }, dtype: features.dtype, device: features.device);
            if (r0 < 0) window.narrow(2, 0, -r0).zero_();
            if (r0 + rows > l) window.narrow(2, l - r0, r0 + rows - l).zero_();
            window.narrow(3, l - r0, halo).zero_();
            long c0 = 0;
            foreach (var level in inputs)
            {
                var part = window.narrow(1, c0, level.Channels);
                foreach (var (band, (data, rowStart)) in level.Bands)
                {
                    long colStart = Start(band);
                    long top = Math.Max(rowStart, r0), bottom = Math.Min(rowStart + data.shape[2], r0 + rows);
                    long left = Math.Max(colStart, r0);   // the window's first column is r0 too
                    if (bottom <= top || left >= l) continue;
                    part.narrow(2, top - r0, bottom - top).narrow(3, left - r0, l - left)
                        .copy_(data.narrow(2, top - rowStart, bottom - top).narrow(3, left - colStart, l - left));
                }
                c0 += level.Channels;
            }
            // cells left of a band's first column are below the diagonal, inside the leading square: mirror its upper cells
            long side = Math.Min(rows, cols);
            Symmetrise(window.narrow(2, 0, side).narrow(3, 0, side));
            return window;
        }

        /// <summary>
        /// Writes band a of the logits and its transpose (the lower triangle); in the diagonal block the upper cells win,
        /// so the logits are exactly symmetric.
        /// </summary>
        private void Place(Tensor logits, Tensor band, long a)
        {
            long r0 = Start(a), rows = band.shape[2], cols = band.shape[3];
            logits.narrow(2, r0, rows).narrow(3, r0, cols).copy_(band);
            logits.narrow(2, r0, cols).narrow(3, r0, rows).copy_(band.transpose(2, 3));
            Symmetrise(logits.narrow(2, r0, rows).narrow(3, r0, rows));
        }
    }

    /// <summary>
    /// Fills (1, C, rows, cols) in column chunks of <paramref name="chunk"/>: <paramref name="fill"/>(first column, width,
    /// the chunk's view) writes each, its temporaries freed before the next (the convolutions' scratch stays bounded).
    /// </summary>
    private static void ByColumns(Tensor output, long chunk, Action<long, long, Tensor> fill)
    {
        long cols = output.shape[3];
        for (long c = 0; c < cols; c += chunk)
        {
            using var scope = NewDisposeScope();
            long n = Math.Min(chunk, cols - c);
            fill(c, n, output.narrow(3, c, n));
        }
    }

    /// <summary>Sets the lower triangle of square maps (1, C, n, n) to the transpose of their upper triangle, in place.</summary>
    private static void Symmetrise(Tensor square)
    {
        long side = square.shape[2];
        using var scope = NewDisposeScope();
        var upper = ones(side, side, dtype: ScalarType.Bool, device: square.device).triu_();
        square.copy_(where(upper, square, square.transpose(2, 3)));
    }
}
