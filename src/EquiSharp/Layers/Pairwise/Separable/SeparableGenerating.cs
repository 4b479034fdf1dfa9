using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise.Separable;

/// <summary>
/// The symmetry-generating convolution evaluated without the self-Cartesian product (SCNN Theorem 1, made exact at the
/// borders). For a kernel W (F, 2n, C, C), p = (C−1)/2, and the masked sequence x̃ (x with positions ≥ L_b zeroed),
/// the 'same'-padded 2-D convolution of the product y = [x_s; x_t] is
/// <code>
///   Z[f,s,t] = bias_f + Σ_k Σ_{i,j} W[f,k,i,j]   · x̃[s+i−p, k] · m(t+j−p)      (first half: depends on s through x̃)
///                     + Σ_k Σ_{i,j} W[f,n+k,i,j] · x̃[t+j−p, k] · m(s+i−p)      (second half: depends on t through x̃)
/// </code>
/// where m(u) = 1 for 0 ≤ u &lt; L_b (zero padding of the 2-D input and the length mask are the same thing: the
/// product is zero outside the L_b×L_b block). The factor m(t+j−p) only drops whole kernel columns j, and which ones
/// depends on t through its <em>border class</em>: the interval of valid columns [lo(t), hi(t)] with
/// lo = max(0, p−t) and hi = min(C−1, L_b−1−t+p). Summing the kernel over that interval gives a 1-D kernel, so
/// <code>
///   Z[f,s,t] = U_{c(t)}[f,s] + V_{c(s)}[f,t],   U_c = conv1d(x̃, Σ_{j∈c} W[:, :n, :, j]) + bias,   V_c = conv1d(x̃, Σ_{i∈c} W[:, n:, i, :])
/// </code>
/// There are at most (p+1)² classes (lo ∈ 0..p, hi ∈ p..C−1); every t in [p, L_b−p) has the full class, so only the
/// ≤ 2p border rows and columns of each sequence need a correction. Work: one conv1d with (p+1)²·2F outputs,
/// O(L·n·F·C·(p+1)²), plus the O(L²·F) broadcast sum. The identity holds for any kernel W (no symmetry is assumed), so
/// the result equals the dense path for the layer's tied kernel whatever its family.
/// <para>Mask semantics with lengths: the output is the dense convolution of the masked product, then masked to each
/// sequence's L_b×L_b block (zero outside it, bias included), i.e. <c>conv(SelfCartesian(x, lengths)) · mask</c>.
/// Without lengths every sequence has length L and nothing is masked.</para>
/// </summary>
public static class SeparableGenerating
{
    /// <summary>How the O(B·F·L²) broadcast sum and its gradient are computed.</summary>
    public enum Engine
    {
        /// <summary>Custom autograd function: one write in forward, two reductions (row and column sums) in backward, nothing large saved.</summary>
        Fused,
        /// <summary>Plain TorchSharp ops under autograd (broadcast add, scatter corrections, mask multiply); a reference and a baseline.</summary>
        Plain,
    }

    /// <summary>
    /// Output (B, F, L, L) of the generating convolution with kernel <paramref name="weight"/> (F, 2n, C, C) on the
    /// self-Cartesian product of <paramref name="x"/> (B, L, n), without materialising the product.
    /// </summary>
    /// <param name="weight">Materialised kernel (F, 2n, C, C), C odd.</param>
    /// <param name="bias">Optional bias (F).</param>
    /// <param name="x">Sequence features (B, L, n).</param>
    /// <param name="lengths">Optional true lengths (B), each in [0, L]; output is masked to each L_b×L_b block.</param>
    /// <param name="engine">Fused custom autograd (default) or plain autograd ops.</param>
    public static Tensor Forward(Tensor weight, Tensor? bias, Tensor x, Tensor? lengths = null, Engine engine = Engine.Fused)
    {
        if (x.dim() != 3) throw new ArgumentException($"Separable generating conv: expected x (B, L, n), got [{string.Join(", ", x.shape)}].", nameof(x));
        if (weight.dim() != 4 || weight.shape[2] != weight.shape[3] || weight.shape[2] % 2 == 0)
            throw new ArgumentException($"Separable generating conv: expected a square odd kernel (F, 2n, C, C), got [{string.Join(", ", weight.shape)}].", nameof(weight));
        long b = x.shape[0], l = x.shape[1], n = x.shape[2];
        long f = weight.shape[0], c = weight.shape[2], p = (c - 1) / 2;
        if (weight.shape[1] != 2 * n)
            throw new ArgumentException($"Separable generating conv: kernel has {weight.shape[1]} input channels, the self-Cartesian product of x has 2n = {2 * n}.", nameof(x));

        var plan = BorderPlan.Create(lengths, b, l, p);
        // U and V for every border class, all from one conv1d over the (masked) sequence.
        var xm = plan.AnyPadding ? x.mul(PairMask.SequenceMask(lengths!, l, x.dtype).to(x.device).unsqueeze(2)) : x;
        var xt = xm.transpose(1, 2);                                                        // (B, n, L)
        var kernel = ClassKernels(weight, n, p);                                            // (2·nC·F, n, C)
        long nc = (p + 1) * (p + 1);
        var uv = nn.functional.conv1d(xt, kernel, padding: p).view(b, 2, nc, f, l);
        var u = uv.select(1, 0);                                                            // (B, nC, F, L)
        var v = uv.select(1, 1);
        if (bias is not null) u = u.add(bias.view(1, 1, f, 1), KeptScalar.One);
        return engine == Engine.Fused
            ? PairBroadcastSum.apply(u, v, plan)
            : PlainPairSum(u, v, plan);
    }

    /// <summary>
    /// The same output as <see cref="Forward"/>, written directly as packed symmetric maps (about half the memory and
    /// writes of the dense output): every stored cell (entry (i, j)) is U_{c(j)}[i] + V_{c(i)}[j], two gathers from
    /// the per-class sequence outputs (border classes per sequence included). Lengths mask the output to each L_b×L_b
    /// block as in the dense path.
    /// </summary>
    /// <param name="weight">Materialised kernel (F, 2n, C, C), C odd.</param>
    /// <param name="bias">Optional bias (F).</param>
    /// <param name="x">Sequence features (B, L, n).</param>
    /// <param name="lengths">Optional true lengths (B).</param>
    /// <param name="layout">Layout for side L; default <see cref="Packed.PackedLayout.Default"/> with reach 0.</param>
    /// <param name="into">Inference only (no autograd), one block and one sequence: a (1, C ≥ F, cells) buffer whose first F
    /// channel planes receive the output, so later layers can work in the same planes
    /// (<see cref="Packed.PackedFunctions.ConvolveInPlace"/>).</param>
    public static Packed.PackedSymmetricMap ForwardPacked(Tensor weight, Tensor? bias, Tensor x, Tensor? lengths = null, Packed.PackedLayout? layout = null,
        Tensor? into = null)
    {
        if (x.dim() != 3) throw new ArgumentException($"Separable generating conv: expected x (B, L, n), got [{string.Join(", ", x.shape)}].", nameof(x));
        long b = x.shape[0], l = x.shape[1], n = x.shape[2];
        long f = weight.shape[0], c = weight.shape[2], p = (c - 1) / 2;
        if (weight.shape[1] != 2 * n)
            throw new ArgumentException($"Separable generating conv: kernel has {weight.shape[1]} input channels, the self-Cartesian product of x has 2n = {2 * n}.", nameof(x));
        layout ??= Packed.PackedLayout.Default(l, 0);
        if (layout.Length != l) throw new ArgumentException($"Separable generating conv: the layout is for side {layout.Length}, the sequences have length {l}.", nameof(layout));
        var plan = BorderPlan.Create(lengths, b, l, p);
        var xm = plan.AnyPadding ? x.mul(PairMask.SequenceMask(lengths!, l, x.dtype).to(x.device).unsqueeze(2)) : x;
        long nc = (p + 1) * (p + 1);
        var uv = nn.functional.conv1d(xm.transpose(1, 2), ClassKernels(weight, n, p), padding: p).view(b, 2, nc, f, l);
        var u = uv.select(1, 0);
        var v = uv.select(1, 1);
        if (bias is not null) u = u.add(bias.view(1, 1, f, 1), KeptScalar.One);
        var dev = x.device;
        // class of every position of every sequence (full class except the ≤ 2p border positions)
        var classOf = new long[b * l];
        Array.Fill(classOf, plan.FullClass);
        for (long bi = 0; bi < b; bi++)
            for (long k = 0; k < plan.K; k++)
                if (plan.Valid[bi * plan.K + k] > 0) classOf[bi * l + plan.Pos[bi * plan.K + k]] = plan.Cls[bi * plan.K + k];
        var cls = tensor(classOf, new[] { b, l }).to(dev);
        var (ii, jj, inside) = layout.CoordinatesOn(dev, x.dtype);
        long cells = layout.Cells;
        var iIdx = cls.gather(1, jj.unsqueeze(0).expand(b, cells)).mul(KeptScalar.Of(l)).add(ii, KeptScalar.One);                 // U_{c(j)}[i] in (nC·L)
        var jIdx = cls.gather(1, ii.unsqueeze(0).expand(b, cells)).mul(KeptScalar.Of(l)).add(jj, KeptScalar.One);                 // V_{c(i)}[j]
        var uFlat = u.permute(0, 2, 1, 3).reshape(b, f, nc * l);
        var vFlat = v.permute(0, 2, 1, 3).reshape(b, f, nc * l);
        var z = is_grad_enabled() ? uFlat.gather(2, iIdx.unsqueeze(1).expand(b, f, cells)).add_(vFlat.gather(2, jIdx.unsqueeze(1).expand(b, f, cells)), KeptScalar.One)
            : GatherSumInChunks(uFlat, vFlat, iIdx, jIdx, into);
        var mask = Packed.PackedSymmetricMap.BlockMask(layout, lengths, x.dtype);                  // (P, B, 1, R, C) or null
        var data = z.view(b, f, layout.BlockCount, layout.BlockRows, layout.BlockCols).permute(2, 0, 1, 3, 4);
        // in place: z is this function's own tensor, and a product with a constant mask saves only the mask for backward
        data = mask is null ? data.mul_(inside.view(layout.BlockCount, 1, 1, layout.BlockRows, layout.BlockCols)) : data.mul_(mask);
        // every cell (canonical or not) was computed from the entry it stands for, cells outside the map are zero
        return new Packed.PackedSymmetricMap(data.contiguous(), layout, haloFilled: true);
    }

    /// <summary>Cells per gather chunk without autograd: bounds the two gathers' temporaries at full length.</summary>
    private const long InferenceChunkCells = 1L << 16;

    /// <summary>
    /// U[iIdx] + V[jIdx] (B, F, cells) without autograd, gathered in chunks of cells into the output (or the first F planes
    /// of <paramref name="into"/>): no two whole-map temporaries (at 1,526 nt each would be 197 MB for 40 channels).
    /// </summary>
    private static Tensor GatherSumInChunks(Tensor uFlat, Tensor vFlat, Tensor iIdx, Tensor jIdx, Tensor? into)
    {
        long b = uFlat.shape[0], f = uFlat.shape[1], cells = iIdx.shape[1];
        if (into is not null && (into.dim() != 3 || b != 1 || into.shape[0] != 1 || into.shape[1] < f || into.shape[2] != cells || !into.is_contiguous()))
            throw new ArgumentException($"Separable generating conv: the output buffer must be contiguous (1, ≥ {f}, {cells}) for one sequence, got [{string.Join(", ", into.shape)}] for {b}.", nameof(into));
        var z = into is null ? empty(new[] { b, f, cells }, dtype: uFlat.dtype, device: uFlat.device) : into.narrow(1, 0, f);
        for (long s = 0; s < cells; s += InferenceChunkCells)
        {
            long n = Math.Min(InferenceChunkCells, cells - s);
            using var part = uFlat.gather(2, iIdx.narrow(1, s, n).unsqueeze(1).expand(b, f, n));
            using var other = vFlat.gather(2, jIdx.narrow(1, s, n).unsqueeze(1).expand(b, f, n));
            z.narrow(2, s, n).copy_(part.add_(other, KeptScalar.One));
        }
        return z;
    }

    /// <summary>
    /// 1-D kernels of every border class, stacked as (2·nC·F, n, C): first the U kernels Σ_{j∈c} W[f,k,i,j] over
    /// i, then the V kernels Σ_{i∈c} W[f,n+k,i,j] over j. Class index c = lo·(p+1) + (hi − p); the full class is p.
    /// </summary>
    internal static Tensor ClassKernels(Tensor weight, long n, long p)
    {
        long c = 2 * p + 1, f = weight.shape[0], nc = (p + 1) * (p + 1);
        var sel = ClassSelection(p, weight.dtype, weight.device);                             // (nC, C)
        var w1 = weight.narrow(1, 0, n);                                                    // (F, n, C_i, C_j)
        var w2 = weight.narrow(1, n, n).transpose(2, 3);                                    // (F, n, C_j, C_i)
        var k1 = matmul(w1, sel.t()).permute(3, 0, 1, 2);                                   // (nC, F, n, C_i)
        var k2 = matmul(w2, sel.t()).permute(3, 0, 1, 2);                                   // (nC, F, n, C_j)
        return stack(new[] { k1, k2 }, 0).reshape(2 * nc * f, n, c);
    }

    /// <summary>(nC, C) 0/1 matrix: row c selects the kernel taps lo..hi of class c.</summary>
    internal static Tensor ClassSelection(long p, ScalarType dtype, Device device)
    {
        long c = 2 * p + 1, nc = (p + 1) * (p + 1);
        var data = new float[nc * c];
        for (long lo = 0; lo <= p; lo++)
            for (long hi = p; hi < c; hi++)
                for (long j = lo; j <= hi; j++) data[(lo * (p + 1) + hi - p) * c + j] = 1f;
        return tensor(data, new[] { nc, c }).to(dtype).to(device);
    }

    /// <summary>The unfused reference: broadcast add, scatter the border corrections, mask; autograd does the rest.</summary>
    private static Tensor PlainPairSum(Tensor u, Tensor v, BorderPlan plan)
    {
        long b = u.shape[0], f = u.shape[2], l = u.shape[3], p = plan.P;
        var uFull = u.select(1, plan.FullClass);
        var vFull = v.select(1, plan.FullClass);
        var z = uFull.unsqueeze(3).add(vFull.unsqueeze(2), KeptScalar.One);                                // (B, F, L, L)
        if (plan.K > 0)
        {
            var (pos, cls, valid) = plan.Tensors(u.device, u.dtype);
            var uSel = u.gather(1, cls.view(b, plan.K, 1, 1).expand(b, plan.K, f, l));      // (B, K, F, L)
            var vSel = v.gather(1, cls.view(b, plan.K, 1, 1).expand(b, plan.K, f, l));
            var w = valid.view(b, plan.K, 1, 1);
            var du = uSel.sub(uFull.unsqueeze(1)).mul(w).permute(0, 2, 3, 1);               // (B, F, L(s), K)
            var dv = vSel.sub(vFull.unsqueeze(1)).mul(w).permute(0, 2, 1, 3);               // (B, F, K, L(t))
            z = z.scatter_add(3, pos.view(b, 1, 1, plan.K).expand(b, f, l, plan.K), du);
            z = z.scatter_add(2, pos.view(b, 1, plan.K, 1).expand(b, f, plan.K, l), dv);
        }
        if (plan.AnyPadding) z = z.mul(plan.BlockMask(u.device, u.dtype));
        _ = p;
        return z;
    }

    /// <summary>
    /// Border rows/columns of each sequence and their classes, on the host: for sequence b, the positions
    /// {0..p−1} ∪ {L_b−p..L_b−1} inside [0, L_b) (deduplicated), padded to K = 2p slots with invalid entries.
    /// </summary>
    internal sealed class BorderPlan
    {
        public long B, L, P, K;
        public long[] Lengths = Array.Empty<long>();
        public long[] Pos = Array.Empty<long>(), Cls = Array.Empty<long>();
        public float[] Valid = Array.Empty<float>();
        public bool AnyPadding;
        public long FullClass => P;

        public static BorderPlan Create(Tensor? lengths, long b, long l, long p)
        {
            var plan = new BorderPlan { B = b, L = l, P = p, K = 2 * p };
            long[] lens;
            if (lengths is null) lens = Enumerable.Repeat(l, (int)b).ToArray();
            else
            {
                if (lengths.numel() != b) throw new ArgumentException($"Separable generating conv: lengths has {lengths.numel()} entries for a batch of {b}.", nameof(lengths));
                lens = lengths.to(int64).cpu().data<long>().ToArray();
                foreach (var lb in lens)
                    if (lb < 0 || lb > l) throw new ArgumentException($"Separable generating conv: length {lb} outside [0, {l}].", nameof(lengths));
            }
            plan.Lengths = lens;
            plan.AnyPadding = lens.Any(v => v != l);
            long k = plan.K;
            plan.Pos = new long[b * k]; plan.Cls = new long[b * k]; plan.Valid = new float[b * k];
            for (long bi = 0; bi < b; bi++)
            {
                long lb = lens[bi], slot = 0;
                var set = new SortedSet<long>();
                for (long t = 0; t < Math.Min(p, lb); t++) set.Add(t);
                for (long t = Math.Max(0, lb - p); t < lb; t++) set.Add(t);
                foreach (var t in set)
                {
                    long lo = Math.Max(0, p - t), hi = Math.Min(2 * p, lb - 1 - t + p);
                    plan.Pos[bi * k + slot] = t;
                    plan.Cls[bi * k + slot] = lo * (p + 1) + hi - p;
                    plan.Valid[bi * k + slot] = 1f;
                    slot++;
                }
                for (; slot < k; slot++) { plan.Pos[bi * k + slot] = 0; plan.Cls[bi * k + slot] = p; plan.Valid[bi * k + slot] = 0f; }
            }
            return plan;
        }

        public (Tensor Pos, Tensor Cls, Tensor Valid) Tensors(Device device, ScalarType dtype) =>
            (tensor(Pos, new[] { B, K }).to(device), tensor(Cls, new[] { B, K }).to(device), tensor(Valid, new[] { B, K }).to(dtype).to(device));

        /// <summary>(B, 1, L, L) block mask.</summary>
        public Tensor BlockMask(Device device, ScalarType dtype) => PairMask.FromLengths(tensor(Lengths).to(device), L, dtype);
    }

    /// <summary>
    /// Z = U_{c(t)}[s] + V_{c(s)}[t] with masking, as one autograd node. Forward: one broadcast add into a fresh
    /// (B, F, L, L) tensor, in-place corrections of the ≤ 2p border rows/columns, in-place zeroing outside the blocks.
    /// Backward: the row sums and column sums of the (masked) gradient plus gathers of its border rows/columns.
    /// Saves nothing of size L² (only the host-side plan).
    /// </summary>
    internal sealed class PairBroadcastSum : autograd.SingleTensorFunction<PairBroadcastSum>
    {
        public override string Name => nameof(PairBroadcastSum);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var u = (Tensor)vars[0];
            var v = (Tensor)vars[1];
            var plan = (BorderPlan)vars[2];
            ctx.save_data("plan", plan);
            ctx.save_data("shape", u.shape);
            long b = u.shape[0], f = u.shape[2], l = u.shape[3], k = plan.K;
            GradientHandoff.ReleaseHandedOff();
            using var scope = NewDisposeScope();
            var uFull = u.select(1, plan.FullClass);
            var vFull = v.select(1, plan.FullClass);
            var z = uFull.unsqueeze(3).add(vFull.unsqueeze(2), KeptScalar.One);                            // (B, F, L, L)
            if (k > 0)
            {
                var (pos, cls, valid) = plan.Tensors(u.device, u.dtype);
                var w = valid.view(b, k, 1, 1);
                var du = u.gather(1, cls.view(b, k, 1, 1).expand(b, k, f, l)).sub_(uFull.unsqueeze(1)).mul_(w);   // (B, K, F, L)
                var dv = v.gather(1, cls.view(b, k, 1, 1).expand(b, k, f, l)).sub_(vFull.unsqueeze(1)).mul_(w);
                z.scatter_add_(3, pos.view(b, 1, 1, k).expand(b, f, l, k), du.permute(0, 2, 3, 1));
                z.scatter_add_(2, pos.view(b, 1, k, 1).expand(b, f, k, l), dv.permute(0, 2, 1, 3));
            }
            if (plan.AnyPadding) ZeroOutsideBlocks(z, plan);
            return GradientHandoff.HandOff(z);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
        {
            var plan = (BorderPlan)ctx.get_data("plan");
            var shape = (long[])ctx.get_data("shape");
            long b = shape[0], nc = shape[1], f = shape[2], l = shape[3], k = plan.K;
            using var scope = NewDisposeScope();
            var g = grad;
            if (plan.AnyPadding) { g = grad.clone(); ZeroOutsideBlocks(g, plan); }
            var rowSum = g.sum(3);                                                         // Σ_t G[s,t] → (B, F, L)
            var colSum = g.sum(2);                                                         // Σ_s G[s,t]
            var gu = zeros(new[] { b, nc, f, l }, dtype: g.dtype, device: g.device);
            var gv = zeros(new[] { b, nc, f, l }, dtype: g.dtype, device: g.device);
            if (k > 0)
            {
                var (pos, cls, valid) = plan.Tensors(g.device, g.dtype);
                var w = valid.view(b, k, 1, 1);
                var gCols = g.gather(3, pos.view(b, 1, 1, k).expand(b, f, l, k)).permute(0, 3, 1, 2).mul(w);   // (B, K, F, L(s))
                var gRows = g.gather(2, pos.view(b, 1, k, 1).expand(b, f, k, l)).permute(0, 2, 1, 3).mul(w);   // (B, K, F, L(t))
                var idx = cls.view(b, k, 1, 1).expand(b, k, f, l);
                gu.scatter_add_(1, idx, gCols);
                gv.scatter_add_(1, idx, gRows);
                rowSum = rowSum.sub(gCols.sum(1));
                colSum = colSum.sub(gRows.sum(1));
            }
            gu.select(1, plan.FullClass).add_(rowSum, KeptScalar.One);
            gv.select(1, plan.FullClass).add_(colSum, KeptScalar.One);
            grad.Dispose(); // the wrapper TorchSharp made for us would otherwise live in the caller's scope
            GradientHandoff.ReleaseHandedOff();
            return new List<Tensor> { GradientHandoff.HandOff(gu), GradientHandoff.HandOff(gv), null! };
        }

        private static void ZeroOutsideBlocks(Tensor z, BorderPlan plan)
        {
            for (long bi = 0; bi < plan.B; bi++)
            {
                long lb = plan.Lengths[bi];
                if (lb == plan.L) continue;
                using var zb = z.select(0, bi);
                using var rows = zb.narrow(1, lb, plan.L - lb);
                using var cols = zb.narrow(2, lb, plan.L - lb);
                rows.zero_();
                cols.zero_();
            }
        }
    }
}
