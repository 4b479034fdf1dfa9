using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Pairwise.Packed;

/// <summary>Differentiable primitives on packed symmetric maps.</summary>
public static class PackedFunctions
{
    /// <summary>
    /// Every stored tile with a halo of <paramref name="halo"/> on each side: (P, B, C, T+2h, T+2h), zero outside the
    /// L×L map. Halo parts below the diagonal come from transposed upper tiles. The backward pass is the adjoint
    /// (halo gradients are added back into their source tiles, transposed where they were read transposed); nothing
    /// is saved for it.
    /// </summary>
    public static Tensor GatherHalo(Tensor tiles, PackedLayout layout, long halo) =>
        HaloGather.apply(tiles, new HaloArgs(layout, layout.Halo(halo)));

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
            long p = x.shape[0], b = x.shape[1], c = x.shape[2], t = plan.T, th = plan.Th, h = plan.H;
            GradientHandoff.ReleaseHandedOff();
            using var scope = NewDisposeScope();
            var dev = x.device;
            var canvas = empty(new[] { p, b, c, th, th }, dtype: x.dtype, device: dev);
            // a handful of large ops (few ops matter on a busy 2-core machine): centre copy, one gather and one scatter of
            // the halo ring, one zero fill of the positions outside the map
            canvas.narrow(3, h, t).narrow(4, h, t).copy_(x);
            var x3 = x.view(p, b * c, t * t);
            var c3 = canvas.view(p, b * c, th * th);
            if (plan.RingQ.Length > 0)
            {
                var ring = x3.index(TensorIndex.Tensor(plan.Idx(plan.RingTile, dev)), TensorIndex.Colon, TensorIndex.Tensor(plan.Idx(plan.RingOff, dev)));   // (Q, BC)
                c3.index_put_(ring, TensorIndex.Tensor(plan.Idx(plan.RingQ, dev)), TensorIndex.Colon, TensorIndex.Tensor(plan.Idx(plan.RingPos, dev)));
            }
            if (plan.ZeroQ.Length > 0)
                c3.index_put_(0f, TensorIndex.Tensor(plan.Idx(plan.ZeroQ, dev)), TensorIndex.Colon, TensorIndex.Tensor(plan.Idx(plan.ZeroPos, dev)));
            if (plan.CanvasMask is not null) canvas.mul_(plan.Mask(dev, x.dtype, p));
            return GradientHandoff.HandOff(canvas);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
        {
            var args = (HaloArgs)ctx.get_data("args");
            var plan = args.Plan;
            long p = grad.shape[0], b = grad.shape[1], c = grad.shape[2], t = plan.T, th = plan.Th, h = plan.H;
            using var scope = NewDisposeScope();
            var dev = grad.device;
            var g = plan.CanvasMask is not null ? grad.mul(plan.Mask(dev, grad.dtype, p)) : grad;
            var gx = g.narrow(3, h, t).narrow(4, h, t).contiguous();
            if (plan.RingQ.Length > 0)
            {
                // adjoint of the ring gather, grouped by source tile: gather every tile's incoming ring gradients
                // (P, width, BC), then one scatter-add along the offset axis (duplicates accumulate)
                var g3 = g.view(p, b * c, th * th);
                var vals = g3.index(TensorIndex.Tensor(plan.Idx2(plan.AdjQ, p, dev)), TensorIndex.Colon, TensorIndex.Tensor(plan.Idx2(plan.AdjPos, p, dev)));
                vals.mul_(plan.AdjW(dev, g.dtype, p));
                var offs = plan.Idx2(plan.AdjOff, p, dev).unsqueeze(1).expand(p, b * c, plan.AdjWidth);
                gx.view(p, b * c, t * t).scatter_add_(2, offs, vals.permute(0, 2, 1));
            }
            grad.Dispose(); // the wrapper TorchSharp made for us would otherwise live in the caller's scope
            GradientHandoff.ReleaseHandedOff();
            return new List<Tensor> { GradientHandoff.HandOff(gx), null! };
        }
    }

    /// <summary>
    /// 'Same'-padded stride-1 convolution of the symmetric maps with a symmetric kernel (F, C, k, k), on the upper tiles
    /// only: one batched convolution over all haloed tiles, output (P, B, F, T, T). The pending ReLU of the input is applied
    /// to the haloed tiles in place, so the convolution's saved input is the only stored copy of the activation.
    /// </summary>
    public static PackedSymmetricMap Conv(PackedSymmetricMap x, Tensor weight, Tensor? bias, long dilation = 1)
    {
        long k = weight.shape[2];
        long halo = dilation * (k - 1) / 2;
        var canvas = Canvas(x, halo);
        var y = ConvOnCanvas(x, canvas, halo, weight, bias, dilation);
        canvas.Dispose(); // the convolution keeps its own reference for backward; our wrapper must not pin it until scope end
        return y;
    }

    /// <summary>The haloed tiles (P·B, C, T+2h, T+2h) with the pending activation applied.</summary>
    internal static Tensor Canvas(PackedSymmetricMap x, long halo)
    {
        using var raw = GatherHalo(x.Data, x.Layout, halo);
        if (x.PendingRelu) raw.relu_();
        long th = x.Layout.Tile + 2 * halo;
        return raw.view(x.Layout.TileCount * x.Batch, x.Channels, th, th).DetachFromDisposeScope();
    }

    /// <summary>Convolution on a canvas gathered with halo <paramref name="canvasHalo"/> ≥ the kernel's reach (centre crop).</summary>
    internal static PackedSymmetricMap ConvOnCanvas(PackedSymmetricMap x, Tensor canvas, long canvasHalo, Tensor weight, Tensor? bias, long dilation)
    {
        long k = weight.shape[2], halo = dilation * (k - 1) / 2, t = x.Layout.Tile;
        var input = canvasHalo == halo ? canvas : canvas.narrow(2, canvasHalo - halo, t + 2 * halo).narrow(3, canvasHalo - halo, t + 2 * halo);
        var y = nn.functional.conv2d(input, weight, bias, dilation: new[] { dilation, dilation });
        y = y.view(x.Layout.TileCount, x.Batch, weight.shape[0], t, t);
        if (x.Layout.HasPadding) y = y.mul(x.Layout.ValidMaskOn(y.device, y.dtype));
        return x.With(y);
    }

    /// <summary>
    /// Batch normalisation of packed symmetric maps with statistics equal to dense BN over the full L×L maps:
    /// off-diagonal tiles count twice (tile and mirror), diagonal tiles once, padding not at all.
    /// Training mode uses (and updates) batch statistics; eval mode the running ones.
    /// </summary>
    internal static Tensor BatchNormTrain(Tensor x, Tensor? gamma, Tensor? beta, Tensor mean, Tensor invstd, Tensor tileWeights, double count) =>
        BatchNormFunction.apply(x, gamma, beta, mean, invstd, tileWeights, count);

    /// <summary>Weighted per-channel mean and biased variance of packed maps (no grad).</summary>
    internal static (Tensor Mean, Tensor Var, double Count) WeightedStats(Tensor x, PackedLayout layout)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long p = x.shape[0], b = x.shape[1], c = x.shape[2];
        var w = layout.TileWeightsOn(x.device, ScalarType.Float64);
        double count = (double)b * layout.Length * layout.Length;
        var x3 = x.view(p * b, c, -1);                                                          // contiguous inner reductions
        // two cheap inner reductions (var_mean measured ≈ 3× slower than sum + vector_norm together here)
        var s1 = x3.sum(2).view(p, b, c).sum(1).to(ScalarType.Float64);                                           // (P, C) per-tile Σx
        var s2 = linalg.vector_norm(x3, 2, new long[] { 2 }).square().view(p, b, c).sum(1).to(ScalarType.Float64);  // Σx², no x² buffer
        var mean = matmul(w, s1).div(count);
        var var_ = matmul(w, s2).div(count).sub(mean.square()).clamp_min(0);
        return (mean.to(x.dtype).MoveToOuterDisposeScope(), var_.to(x.dtype).MoveToOuterDisposeScope(), count);
    }

    internal sealed class BatchNormFunction : autograd.SingleTensorFunction<BatchNormFunction>
    {
        public override string Name => "PackedBatchNorm";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            var gamma = vars[1] as Tensor;
            var beta = vars[2] as Tensor;
            var mean = (Tensor)vars[3];
            var invstd = (Tensor)vars[4];
            var w = (Tensor)vars[5];
            double count = (double)vars[6];
            long c = x.shape[2];
            ctx.save_for_backward(new List<Tensor> { x, gamma ?? ones(c, dtype: x.dtype, device: x.device), mean, invstd, w });
            ctx.save_data("count", count);
            ctx.save_data("affine", gamma is not null);
            GradientHandoff.ReleaseHandedOff();
            using var scope = NewDisposeScope();
            var scale = gamma is null ? invstd : invstd.mul(gamma);
            var shift = (beta is null ? zeros_like(mean) : beta).sub(mean.mul(scale));
            var y = addcmul(shift.view(1, 1, c, 1, 1), x, scale.view(1, 1, c, 1, 1), 1.0);
            return GradientHandoff.HandOff(y);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor g)
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            Tensor x = saved[0], gamma = saved[1], mean = saved[2], invstd = saved[3], w = saved[4];
            double count = (double)ctx.get_data("count");
            bool affine = (bool)ctx.get_data("affine");
            long c = x.shape[2];
            long p = x.shape[0], nb = x.shape[1];
            var g3 = g.view(p * nb, c, -1);
            var x3 = x.view(p * nb, c, -1);
            var dbeta = g3.sum(2).sum(new long[] { 0 });                                                 // Σ g (per channel)
            var sgx = einsum("nce,nce->nc", g3, x3).sum(new long[] { 0 });                               // Σ g·x without a g·x buffer
            var dgamma = sgx.sub(mean.mul(dbeta)).mul(invstd);                            // Σ g·x̂
            // dx = γ·invstd·(g − w·(dβ + x̂·dγ)/N) = a·g + w_tile·(b·x + c0)
            var a = gamma.mul(invstd);
            var bcoef = a.mul(invstd).mul(dgamma).div(-count);
            var c0 = a.mul(dbeta.sub(mean.mul(invstd).mul(dgamma))).div(-count);
            var wt = w.view(p, 1, 1, 1, 1);
            var t = addcmul(wt.mul(c0.view(1, 1, c, 1, 1)), x, wt.mul(bcoef.view(1, 1, c, 1, 1)), 1.0);
            var dx = t.addcmul_(g, a.view(1, 1, c, 1, 1), 1.0);
            g.Dispose();
            GradientHandoff.ReleaseHandedOff();
            Tensor? dg = null, db = null;
            if (affine) { dg = GradientHandoff.HandOff(dgamma); db = GradientHandoff.HandOff(dbeta); }
            return new List<Tensor> { GradientHandoff.HandOff(dx), dg!, db!, null!, null!, null!, null! };
        }
    }
}
