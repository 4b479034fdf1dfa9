using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Packed;
using EquiSharp.Layers.Pairwise.Separable;
using EquiSharp.Verification;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;
using EquiSharp.Training;

namespace EquiSharp.Tests.Layers.Pairwise;

public class PackedMapTests
{
    private const double Tol = 1e-4;

    internal static Tensor Sym(Generator g, params long[] shape)
    {
        var a = randn(shape, generator: g);
        return a.add(a.transpose(2, 3), KeptScalar.One);
    }

    /// <summary>"folded:h" (reach h) or "tiled:T" (tile side T) for maps of side l.</summary>
    internal static PackedLayout Layout(string spec, long l)
    {
        var parts = spec.Split(':');
        long v = long.Parse(parts[1]);
        return parts[0] switch
        {
            "folded" => PackedLayout.Folded(l, v),
            "folded-nomargin" => PackedLayout.Folded(l, v, withMargin: false),
            _ => PackedLayout.Tiled(l, v),
        };
    }

    [Theory]
    [InlineData(12, "tiled:4")] [InlineData(10, "tiled:4")] [InlineData(9, "tiled:9")] [InlineData(13, "tiled:5")]
    [InlineData(12, "folded:2")] [InlineData(13, "folded:2")] [InlineData(1, "folded:1")] [InlineData(2, "folded:0")] [InlineData(7, "folded:4")]
    public void PackThenUnpackGivesTheSymmetricMapBack(int l, string spec)
    {
        var d = Sym(new Generator(1), 2, 3, l, l);
        var layout = Layout(spec, l);
        var p = PackedSymmetricMap.Pack(d, layout);
        Assert.Equal(new long[] { layout.BlockCount, 2, 3, layout.BlockRows, layout.BlockCols }, p.Data.shape);
        Assert.Equal(0f, (p.Unpack() - d).abs().max().item<float>());
    }

    [Fact]
    public void MemoryFractionsOfTheLayouts()
    {
        Assert.Equal(0.5625, PackedLayout.Tiled(512, 64).MemoryFraction, 12);
        Assert.Equal(0.625, PackedLayout.Tiled(512, 128).MemoryFraction, 12);
        // folded: (L − ⌊L/2⌋ + 4h + 1) rows of L cells, plus a margin of h all round by default
        Assert.Equal(265.0 / 512, PackedLayout.Folded(512, 2, withMargin: false).MemoryFraction, 12);
        Assert.Equal(89.0 / 128, PackedLayout.Folded(128, 6, withMargin: false).MemoryFraction, 12);
        Assert.Equal(269.0 * 516 / (512 * 512), PackedLayout.Folded(512, 2).MemoryFraction, 12);
    }

    /// <summary>
    /// The folded layout's defining property, checked exhaustively for every L ≤ 40 and every reach up to 6 (the paper
    /// model's 13×13 kernels, what <c>rna train</c> runs by default): every entry has a canonical cell that stands for it
    /// (or its mirror), and around every canonical cell, every position within the supported reach reads (through its
    /// canonical cell) exactly the entry at that offset in the map — so a convolution over the rectangle is exact at
    /// canonical cells. Fails if the band, the shift s = 4h + 1 or the canonical choice were any smaller/else.
    /// </summary>
    [Theory]
    [InlineData(0, true)] [InlineData(1, true)] [InlineData(2, true)] [InlineData(3, true)] [InlineData(4, true)] [InlineData(5, true)] [InlineData(6, true)]
    [InlineData(2, false)] [InlineData(3, false)] [InlineData(6, false)]
    public void FoldedLayoutGivesEveryCanonicalCellItsTrueNeighbourhood(int h, bool margin)
    {
        for (long l = 1; l <= 40; l++)
        {
            var layout = PackedLayout.Folded(l, h, margin);
            for (long i = 0; i < l; i++)
                for (long j = 0; j < l; j++)
                {
                    long cell = layout.CanonicalCell(i, j);
                    Assert.Equal(cell, layout.CanonicalCell(j, i));
                    long r = cell / layout.BlockCols, c = cell % layout.BlockCols;
                    if (margin && !(r >= h && c >= h && r < layout.BlockRows - h && c < layout.BlockCols - h))
                        Assert.Fail($"L={l} h={h}: canonical cell of ({i},{j}) lies in the margin");
                    var (a, b) = layout.MapCoordinate(0, r, c);
                    if (!((a, b) == (i, j) || (a, b) == (j, i))) Assert.Fail($"L={l} h={h}: cell of ({i},{j}) stands for ({a},{b})");
                    // (messages are built only on failure: this loop runs millions of times)
                    for (long dr = -h; dr <= h; dr++)
                        for (long dc = -h; dc <= h; dc++)
                        {
                            long ta = a + dr, tb = b + dc;
                            long expected = ta < 0 || tb < 0 || ta >= l || tb >= l ? -1 : layout.CanonicalCell(ta, tb);
                            if (expected != layout.Source(0, r + dr, c + dc)) Assert.Fail($"L={l} h={h}: entry ({a},{b}) offset ({dr},{dc})");
                        }
                }
        }
    }

    [Theory]
    [InlineData(3, 1, 12, "tiled:4")] [InlineData(5, 1, 12, "tiled:4")] [InlineData(5, 1, 11, "tiled:4")] [InlineData(3, 2, 13, "tiled:5")] [InlineData(1, 1, 7, "tiled:3")] [InlineData(9, 1, 16, "tiled:4")]
    [InlineData(3, 1, 12, "folded:1")] [InlineData(5, 1, 12, "folded:2")] [InlineData(5, 1, 11, "folded:3")] [InlineData(3, 2, 13, "folded:2")] [InlineData(1, 1, 7, "folded:0")] [InlineData(9, 1, 16, "folded:4")] [InlineData(5, 1, 3, "folded:2")]
    [InlineData(5, 1, 12, "folded-nomargin:2")] [InlineData(3, 2, 13, "folded-nomargin:3")] [InlineData(3, 1, 12, "folded:3")]
    public void ConvForwardAndGradientsEqualTheDenseConv(int k, int dilation, int l, string spec)
    {
        var g = new Generator((ulong)(k * 100 + l));
        var conv = PairLayers.SymmetryPreservingConv2d(3, 4, k, dilation);
        conv.ResetParameters(g);
        using (no_grad()) conv.Bias!.normal_(generator: g);
        var a = randn(new long[] { 2, 3, l, l }, generator: g);
        var upstream = Sym(g, 2, 4, l, l);
        var packed = new PackedSymmetryPreservingConv2d(conv);

        (Tensor y, Tensor ga, Tensor gw, Tensor gb) Run(Func<Tensor, Tensor> f)
        {
            var av = a.detach().requires_grad_(true);
            conv.zero_grad();
            var y = f(av.add(av.transpose(2, 3), KeptScalar.One));
            y.mul(upstream).sum().backward();
            return (y.detach(), av.grad!.clone(), conv.TiedKernel.Theta.grad!.clone(), conv.Bias!.grad!.clone());
        }
        var dense = Run(conv.forward);
        var pk = Run(d => packed.forward(PackedSymmetricMap.Pack(d, Layout(spec, l))).Unpack());
        Assert.True(Deviation.Relative(pk.y, dense.y) <= Tol, $"forward {Deviation.Relative(pk.y, dense.y)}");
        Assert.True(Deviation.Relative(pk.ga, dense.ga) <= Tol, $"input grad {Deviation.Relative(pk.ga, dense.ga)}");
        Assert.True(Deviation.Relative(pk.gw, dense.gw) <= Tol, $"weight grad {Deviation.Relative(pk.gw, dense.gw)}");
        Assert.True(Deviation.Relative(pk.gb, dense.gb) <= Tol, $"bias grad {Deviation.Relative(pk.gb, dense.gb)}");
    }

    /// <summary>
    /// GatherHalo is public: its gradient must not be written in place even when the gathered canvas is used next to
    /// another tensor (autograd then hands both nodes the same gradient tensor), also for a halo of 0.
    /// </summary>
    [Theory]
    [InlineData("folded:2", 0)] [InlineData("folded:2", 1)] [InlineData("tiled:4", 0)] [InlineData("folded-nomargin:2", 0)]
    public void GatherHaloLeavesAGradientItSharesUntouched(string spec, long halo)
    {
        var g = new Generator(17);
        var layout = Layout(spec, 9);
        var blocks = PackedSymmetricMap.Pack(Sym(g, 2, 3, 9, 9), layout).Data.detach().requires_grad_(true);
        var shape = new[] { layout.BlockCount, 2, 3, layout.BlockRows + 2 * halo, layout.BlockCols + 2 * halo };
        var leaf = randn(shape, generator: g).requires_grad_(true);
        var other = leaf.mul(KeptScalar.Of(3));                                      // created first, so its backward runs after ours
        var canvas = PackedFunctions.GatherHalo(blocks, layout, halo);
        var w = randn(shape, generator: g);
        canvas.add(other, KeptScalar.One).mul(w).sum().backward();
        Assert.Equal(0.0, (leaf.grad! - w.mul(KeptScalar.Of(3))).abs().max().item<float>());
        Assert.NotNull(blocks.grad);
    }

    [Fact]
    public void ReachBeyondTheLayoutIsRejected()
    {
        var conv = new PackedSymmetryPreservingConv2d(PairLayers.SymmetryPreservingConv2d(1, 1, 7));
        Assert.Equal(3, conv.Reach);
        var d = Sym(new Generator(2), 1, 1, 8, 8);
        Assert.Contains("reach of 3", Assert.Throws<ArgumentException>(() => conv.forward(PackedSymmetricMap.Pack(d, PackedLayout.Tiled(8, 2)))).Message);
        Assert.Contains("reach of 3", Assert.Throws<ArgumentException>(() => conv.forward(PackedSymmetricMap.Pack(d, PackedLayout.Folded(8, 2)))).Message);
    }

    [Theory]
    [InlineData("tiled:4")] [InlineData("folded:1")] [InlineData("folded:0")]
    public void BatchNormStatisticsEqualDenseBatchNorm(string spec)
    {
        var g = new Generator(5);
        var d = Sym(g, 3, 4, 11, 11).add(KeptScalar.Of(0.7), KeptScalar.One);
        var bnDense = nn.BatchNorm2d(4);
        var bnPackedInner = nn.BatchNorm2d(4);
        var packed = new PackedBatchNorm2d(bnPackedInner);
        var yd = bnDense.forward(d);
        var yp = packed.forward(PackedSymmetricMap.Pack(d, Layout(spec, 11))).Unpack();
        Assert.True(Deviation.Relative(yp, yd) <= Tol);
        Assert.True(Deviation.Relative(bnPackedInner.running_mean!, bnDense.running_mean!) <= 1e-5);
        Assert.True(Deviation.Relative(bnPackedInner.running_var!, bnDense.running_var!) <= 1e-5);
        bnDense.eval(); packed.eval();
        var e = Sym(g, 2, 4, 11, 11);
        Assert.True(Deviation.Relative(packed.forward(PackedSymmetricMap.Pack(e, Layout(spec, 11))).Unpack(), bnDense.forward(e)) <= Tol);
    }

    /// <summary>
    /// Built from a BatchNorm2d, the packed batch norm takes that module's eps and momentum (here 1e-3 and 0.3, or the
    /// cumulative average of momentum null) and computes its statistics stably: on maps offset by 1e3 (|mean| ≫ std, where
    /// Σx²/N − mean² in float32 keeps no digit of the variance) output, running statistics over two steps and the
    /// gradients of input, γ and β equal the dense BatchNorm2d's.
    /// </summary>
    [Theory]
    [InlineData("folded:2", 0.3)] [InlineData("tiled:4", 0.3)] [InlineData("folded:1", null)]
    public void BatchNormTakesTheModulesEpsAndMomentumAndIsStableFarFromZero(string spec, double? momentum)
    {
        var g = new Generator(25);
        const int l = 11;
        var bnDense = nn.BatchNorm2d(4, eps: 1e-3);
        var bnInner = nn.BatchNorm2d(4, eps: 1e-3);
        bnDense.momentum = momentum; bnInner.momentum = momentum;
        using (no_grad())
        {
            bnDense.weight!.normal_(generator: g); bnInner.weight!.copy_(bnDense.weight);
            bnDense.bias!.normal_(generator: g); bnInner.bias!.copy_(bnDense.bias);
        }
        var packed = new PackedBatchNorm2d(bnInner);
        var layout = Layout(spec, l);
        for (int step = 0; step < 2; step++)
        {
            // std ≈ 0.7 (eps = 1e-3 moves the output by ≈ 1e-3, ten times the tolerance) around 1e3 (float32 still resolves 1e-4 of it)
            var a = randn(new long[] { 3, 4, l, l }, generator: g).add(KeptScalar.Of(1e3), KeptScalar.One);
            var up = Sym(g, 3, 4, l, l);
            (Tensor y, Tensor gx, Tensor gw, Tensor gb) Run(Func<Tensor, Tensor> f, BatchNorm2d owner)
            {
                var av = a.detach().requires_grad_(true);
                owner.zero_grad();
                var y = f(av.add(av.transpose(2, 3), KeptScalar.One).div(KeptScalar.Of(2)));
                y.mul(up).sum().backward();
                return (y.detach(), av.grad!.clone(), owner.weight!.grad!.clone(), owner.bias!.grad!.clone());
            }
            var rd = Run(bnDense.forward, bnDense);
            var rp = Run(x => packed.forward(PackedSymmetricMap.Pack(x, layout)).Unpack(), bnInner);
            Assert.True(Deviation.Relative(rp.y, rd.y) <= Tol, $"step {step}: forward {Deviation.Relative(rp.y, rd.y)}");
            Assert.True(Deviation.Relative(rp.gx, rd.gx) <= Tol, $"step {step}: x grad {Deviation.Relative(rp.gx, rd.gx)}");
            Assert.True(Deviation.Relative(rp.gw, rd.gw) <= Tol, $"step {step}: gamma grad {Deviation.Relative(rp.gw, rd.gw)}");
            Assert.True(Deviation.Relative(rp.gb, rd.gb) <= Tol, $"step {step}: beta grad {Deviation.Relative(rp.gb, rd.gb)}");
            Assert.True(Deviation.Relative(bnInner.running_mean!, bnDense.running_mean!) <= 1e-6, $"step {step}: running mean");
            Assert.True(Deviation.Relative(bnInner.running_var!, bnDense.running_var!) <= 1e-4,
                $"step {step}: running var {bnInner.running_var!.data<float>()[0]} vs {bnDense.running_var!.data<float>()[0]}");
        }
        bnDense.eval(); packed.eval();
        var e = randn(new long[] { 2, 4, l, l }, generator: g).add(KeptScalar.Of(1e3), KeptScalar.One);
        e = e.add(e.transpose(2, 3), KeptScalar.One).div(KeptScalar.Of(2));
        using (no_grad())
            Assert.True(Deviation.Relative(packed.forward(PackedSymmetricMap.Pack(e, layout)).Unpack(), bnDense.forward(e)) <= Tol);
    }

    /// <summary>Packed BN wrapping the masked <see cref="PairBatchNorm2d"/> with the packed block mask = the dense masked BN (values, running statistics, gradients).</summary>
    [Theory]
    [InlineData("tiled:4")] [InlineData("folded:2")]
    public void MaskedBatchNormEqualsDensePairBatchNorm(string spec)
    {
        var g = new Generator(15);
        const int l = 11;
        var layout = Layout(spec, l);
        var lengths = tensor(new long[] { 11, 6, 3 });
        var d = randn(new long[] { 3, 4, l, l }, generator: g).add(KeptScalar.Of(0.25), KeptScalar.One);
        var up = Sym(g, 3, 4, l, l);
        var mask = PairMask.FromLengths(lengths, l);
        var bnDense = new PairBatchNorm2d(4);
        var bnInner = new PairBatchNorm2d(4);
        using (no_grad()) { bnDense.Weight.normal_(generator: g); bnInner.Weight.copy_(bnDense.Weight); }
        var packed = new PackedBatchNorm2d(bnInner);
        var packedMask = PackedSymmetricMap.BlockMask(layout, lengths, ScalarType.Float32);
        (Tensor y, Tensor gx, Tensor gw) Run(Func<Tensor, Tensor> f, PairBatchNorm2d owner)
        {
            var xv = d.detach().requires_grad_(true);
            owner.zero_grad();
            var y = f(xv.add(xv.transpose(2, 3), KeptScalar.One)); // symmetric input: the packed map reads each entry once, the dense map both halves
            y.mul(up).sum().backward();
            return (y.detach(), xv.grad!.clone(), owner.Weight.grad!.clone());
        }
        var rd = Run(x => bnDense.forward(x, mask), bnDense);
        var rp = Run(x => packed.forward(PackedSymmetricMap.Pack(x, layout), packedMask).Unpack(), bnInner);
        Assert.True(Deviation.Relative(rp.y, rd.y) <= Tol, $"forward {Deviation.Relative(rp.y, rd.y)}");
        Assert.True(Deviation.Relative(rp.gx, rd.gx) <= Tol, $"x grad {Deviation.Relative(rp.gx, rd.gx)}");
        Assert.True(Deviation.Relative(rp.gw, rd.gw) <= Tol, $"gamma grad {Deviation.Relative(rp.gw, rd.gw)}");
        Assert.True(Deviation.Relative(bnInner.RunningMean, bnDense.RunningMean) <= 1e-5);
        Assert.True(Deviation.Relative(bnInner.RunningVar, bnDense.RunningVar) <= 1e-5);
    }

    private static (nn.Module<Tensor, Tensor> Dense, PackedSequential Packed, nn.Module Params) Twins(int seed)
    {
        nn.Module[] Build()
        {
            var g = new Generator((ulong)seed);
            var c1 = PairLayers.SymmetryPreservingConv2d(3, 6, 5, bias: false); c1.ResetParameters(g);
            var mk = PairLayers.MultiKernelSymmetricConv2d(6, new (long, long)[] { (7, 3), (3, 2) }, bias: false);
            foreach (var b in mk.Branches) b.ResetParameters(g);
            var c2 = PairLayers.SymmetryPreservingConv2d(5, 2, 3, dilation: 2); c2.ResetParameters(g);
            return new nn.Module[] { c1, nn.BatchNorm2d(6), nn.ReLU(), mk, nn.BatchNorm2d(5), nn.ReLU(), c2, nn.Sigmoid() };
        }
        var layers = Build();
        var dense = nn.Sequential(layers.Select((m, i) => ($"l{i}", (nn.Module<Tensor, Tensor>)m)).ToArray());
        var twin = Build();
        var packedParams = nn.Sequential(twin.Select((m, i) => ($"l{i}", (nn.Module<Tensor, Tensor>)m)).ToArray());
        return (dense, PackedSequential.From(twin), packedParams);
    }

    [Theory]
    [InlineData(16, "tiled:4")] [InlineData(15, "tiled:4")] [InlineData(16, "folded:3")] [InlineData(15, "folded:3")] [InlineData(15, "folded:4")] [InlineData(15, "folded-nomargin:3")]
    public void TrainingOnPackedMapsGivesTheDenseLossesAndGradients(int l, string spec)
    {
        var (dense, packed, packedParams) = Twins(9);
        Assert.Equal(3, packed.Reach);
        var g = new Generator(10);
        var a = randn(new long[] { 2, 3, l, l }, generator: g);
        var target = Sym(g, 2, 2, l, l).sigmoid();
        var optD = Optimizers.Sgd(dense.parameters(), 0.5);
        var optP = Optimizers.Sgd(packed.parameters(), 0.5);
        Assert.Equal(dense.parameters().Count(), packed.parameters().Count());
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            var ad = a.detach().requires_grad_(true);
            var ap = a.detach().requires_grad_(true);
            optD.zero_grad(); optP.zero_grad();
            var lossD = nn.functional.mse_loss(dense.forward(ad.add(ad.transpose(2, 3), KeptScalar.One)), target);
            var lossP = nn.functional.mse_loss(packed.forward(PackedSymmetricMap.Pack(ap.add(ap.transpose(2, 3), KeptScalar.One), Layout(spec, l))).Unpack(), target);
            lossD.backward(); lossP.backward();
            Assert.True(Math.Abs(lossD.item<float>() - lossP.item<float>()) <= Tol * Math.Abs(lossD.item<float>()), $"step {step}: loss {lossD.item<float>()} vs {lossP.item<float>()}");
            Assert.True(Deviation.Relative(ap.grad!, ad.grad!) <= Tol, $"step {step}: input grad {Deviation.Relative(ap.grad!, ad.grad!)}");
            // (convs followed by BN have no bias: its true gradient is exactly zero and both paths would only give rounding
            // noise; the floor guards any other near-zero gradient the same way)
            double floor = 1e-3 * dense.parameters().Max(q => q.grad!.abs().max().item<float>());
            foreach (var (pd, pp) in dense.named_parameters().Zip(packedParams.named_parameters()))
            {
                Assert.Equal(pd.name, pp.name);
                double dev = (pp.parameter.grad! - pd.parameter.grad!).abs().max().item<float>() / Math.Max(pd.parameter.grad!.abs().max().item<float>(), floor);
                Assert.True(dev <= Tol, $"step {step}: {pd.name} grad dev {dev}");
            }
            optD.step(); optP.step();
        }
    }

    [Fact]
    public void PendingReluIsAppliedOnUnpackAndBySigmoid()
    {
        var d = Sym(new Generator(3), 1, 2, 9, 9);
        var p = new PackedReLU().forward(PackedSymmetricMap.Pack(d, PackedLayout.Folded(9, 1)));
        Assert.True(p.PendingRelu);
        Assert.Equal(0f, (p.Unpack() - d.relu()).abs().max().item<float>());
        Assert.True(Deviation.Relative(new PackedSigmoid().forward(p).Unpack(), d.relu().sigmoid()) <= 1e-6);
    }

    /// <summary>
    /// Max deviation between a packed convolution of <paramref name="m"/> and the dense convolution of its unpacked maps:
    /// non-zero when a cell a packed consumer reads (a halo or a non-canonical cell) disagrees with the entry it stands for
    /// — what <c>Asymmetry(Unpack(..))</c> cannot see, since Unpack reads one cell for both (i, j) and (j, i).
    /// </summary>
    internal static double PackedConvDeviation(PackedSymmetricMap m, int seed)
    {
        var conv = PairLayers.SymmetryPreservingConv2d(m.Channels, 2, 2 * m.Layout.MaxHalo + 1);
        conv.ResetParameters(new Generator((ulong)seed));
        return Deviation.Relative(new PackedSymmetryPreservingConv2d(conv).forward(m).Unpack(), conv.forward(m.Unpack()));
    }

    [Theory]
    [InlineData("tiled:4")] [InlineData("folded:2")]
    public void DropoutMasksAreSymmetricAndScaled(string spec)
    {
        var d = Sym(new Generator(4), 2, 3, 13, 13).abs().add(KeptScalar.Of(1), KeptScalar.One);
        var drop = new PackedDropout(0.3);
        // the input comes from a packed batch norm, which (folded layout) hands over a filled halo: the dropped map must
        // not keep claiming it, or the next convolution would read cells that were not dropped with their entries
        var normalized = new PackedBatchNorm2d(nn.BatchNorm2d(3)).forward(PackedSymmetricMap.Pack(d, Layout(spec, 13)));
        var dropped = drop.forward(normalized);
        Assert.True(PackedConvDeviation(dropped, 5) <= Tol, $"packed conv after dropout {PackedConvDeviation(dropped, 5)}");
        var y = drop.forward(PackedSymmetricMap.Pack(d, Layout(spec, 13))).Unpack();
        var ratio = y / d;
        var kept = ratio.gt(KeptScalar.Of(0));
        Assert.True(Deviation.Relative(ratio.masked_select(kept), full(1, KeptScalar.Of(1 / 0.7f))) <= 1e-6);
        double frac = kept.to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(frac, 0.55, 0.85);
        drop.eval();
        Assert.Equal(0f, (drop.forward(PackedSymmetricMap.Pack(d, Layout(spec, 13))).Unpack() - d).abs().max().item<float>());
        var dense = new SymmetricDropout(0.3);
        Assert.True(Deviation.Asymmetry(dense.forward(d)) == 0);
    }
}

public class PackedPipelineTests
{
    /// <summary>Sequence → generating layer → conv/BN/ReLU stack, padded batch: packed pipeline = dense pipeline.</summary>
    [Theory]
    [InlineData("tiled:4")] [InlineData("folded:2")]
    public void GeneratingToPackedStackEqualsTheDensePipelineOnAPaddedBatch(string spec)
    {
        var g = new Generator(77);
        var gen = new SeparableSymmetryGeneratingConv2d(3, 4, 3);
        gen.Conv.ResetParameters(g);
        var conv = PairLayers.SymmetryPreservingConv2d(4, 3, 5, bias: false);
        conv.ResetParameters(g);
        var bn = nn.BatchNorm2d(3);
        var dense = nn.Sequential(("c", conv), ("bn", bn), ("r", nn.ReLU()));
        var packed = PackedSequential.From(new nn.Module[] { conv, bn, nn.ReLU() });
        var x = randn(new long[] { 3, 14, 3 }, generator: g);
        var lengths = tensor(new long[] { 14, 9, 5 });
        var up = randn(new long[] { 3, 3, 14, 14 }, generator: g);
        up = up.add(up.transpose(2, 3), KeptScalar.One);
        (Tensor loss, Tensor gx, Tensor gtheta) Run(Func<Tensor, Tensor> f)
        {
            var xv = x.detach().requires_grad_(true);
            gen.zero_grad(); dense.zero_grad();
            var loss = f(xv).mul(up).sum();
            loss.backward();
            return (loss.detach(), xv.grad!.clone(), cat(new[] { gen.Conv.TiedKernel.Theta.grad!.flatten(), conv.TiedKernel.Theta.grad!.flatten() }));
        }
        var d = Run(xv => dense.forward(gen.forward(xv, lengths)));
        var p = Run(xv => packed.forward(gen.ForwardPacked(xv, lengths, PackedMapTests.Layout(spec, 14))).Unpack());
        Assert.True(Deviation.Relative(p.loss, d.loss) <= 1e-4, $"loss {Deviation.Relative(p.loss, d.loss)}");
        Assert.True(Deviation.Relative(p.gx, d.gx) <= 1e-4, $"x grad {Deviation.Relative(p.gx, d.gx)}");
        Assert.True(Deviation.Relative(p.gtheta, d.gtheta) <= 1e-4, $"theta grads {Deviation.Relative(p.gtheta, d.gtheta)}");
    }

    [Fact]
    public void ConcatAndRandomKeepTheMapSymmetric()
    {
        var layout = PackedLayout.Folded(10, 2);
        var a = PackedSymmetricMap.Random(layout, 2, 3, generator: new Generator(5));
        var b = new PackedReLU().forward(PackedSymmetricMap.Random(layout, 2, 2, generator: new Generator(6)));
        var both = PackedSymmetricMap.Concat(a, b);
        Assert.Equal(5, both.Channels);
        var dense = both.Unpack();
        Assert.True(PackedMapTests.PackedConvDeviation(both, 8) <= 1e-5, $"packed conv of the concatenation {PackedMapTests.PackedConvDeviation(both, 8)}");
        Assert.Equal(0f, (dense.narrow(1, 0, 3) - a.Unpack()).abs().max().item<float>());
        Assert.Equal(0f, (dense.narrow(1, 3, 2) - b.Unpack()).abs().max().item<float>());
        Assert.True(b.Unpack().min().item<float>() >= 0);
        // a map whose halo a batch norm filled, next to a convolution output whose non-canonical cells hold no entry:
        // the concatenation must not claim a filled halo
        var filled = new PackedBatchNorm2d(nn.BatchNorm2d(3)).forward(a);
        Assert.True(filled.HaloFilled);
        var convOut = new PackedSymmetryPreservingConv2d(PairLayers.SymmetryPreservingConv2d(2, 2, 3)).forward(b);
        var mixed = PackedSymmetricMap.Concat(filled, convOut);
        Assert.True(PackedMapTests.PackedConvDeviation(mixed, 9) <= 1e-5, $"packed conv of a mixed concatenation {PackedMapTests.PackedConvDeviation(mixed, 9)}");
    }

    [Fact]
    public void ChainFreesItsInputOnlyWhenHandedOverAndComputesTheSameEitherWay()
    {
        var layout = PackedLayout.Folded(9, 1);
        var stages = new[] { new PairConvStage(3, new (long, long)[] { (3, 4) }, symmetric: true, PairActivation.ReLU),
                             new PairConvStage(4, new (long, long)[] { (3, 2) }, symmetric: true, PairActivation.ReLU) };
        foreach (var s in stages) s.eval(); // the inference path, where stages work in place on their fresh outputs
        using var _ = no_grad();
        var kept = PackedSymmetricMap.Random(layout, 2, 3, generator: new Generator(7));
        var handed = kept.With(kept.Data.clone());
        var a = PairConvStage.ForwardPacked(stages, kept, null).Unpack();
        var b = PairConvStage.ForwardPacked(stages, handed, null, ownsInput: true).Unpack();
        Assert.False(kept.Data.IsInvalid);
        Assert.True(handed.Data.IsInvalid);
        Assert.Equal(0f, (a - b).abs().max().item<float>());
    }

    [Fact]
    public void LayoutsAreEqualByKindAndParametersAndConcatRefusesAnother()
    {
        Assert.Equal(PackedLayout.Folded(10, 2), PackedLayout.Folded(10, 2));
        Assert.NotEqual(PackedLayout.Folded(10, 2), PackedLayout.Folded(10, 2, withMargin: false));
        Assert.NotEqual(PackedLayout.Folded(10, 2), PackedLayout.Folded(10, 1));
        Assert.NotEqual<PackedLayout>(PackedLayout.Folded(10, 2), PackedLayout.Tiled(10, 2));
        Assert.Equal(PackedLayout.Tiled(10, 4).GetHashCode(), PackedLayout.Tiled(10, 4).GetHashCode());
        var a = PackedSymmetricMap.Random(PackedLayout.Folded(10, 2), 1, 1);
        var b = PackedSymmetricMap.Random(PackedLayout.Folded(10, 2, withMargin: false), 1, 1);
        Assert.Throws<ArgumentException>(() => PackedSymmetricMap.Concat(a, b));
    }
}
