using EquiSharp.Pairwise;
using EquiSharp.Pairwise.Packed;
using EquiSharp.Pairwise.Separable;
using EquiSharp.Verification;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Pairwise;

public class PackedMapTests
{
    private const double Tol = 1e-4;

    private static Tensor Sym(Generator g, params long[] shape)
    {
        var a = randn(shape, generator: g);
        return a + a.transpose(2, 3);
    }

    [Theory]
    [InlineData(12, 4)] [InlineData(10, 4)] [InlineData(9, 9)] [InlineData(13, 5)]
    public void PackThenUnpackGivesTheSymmetricMapBack(int l, int tile)
    {
        var d = Sym(new Generator(1), 2, 3, l, l);
        var p = PackedSymmetricMap.Pack(d, tile);
        long nt = (l + tile - 1) / tile;
        Assert.Equal(new long[] { nt * (nt + 1) / 2, 2, 3, tile, tile }, p.Data.shape);
        Assert.Equal(0f, (p.Unpack() - d).abs().max().item<float>());
    }

    [Fact]
    public void MemoryFractionIsTheUpperTriangleOfTiles()
    {
        Assert.Equal(0.5625, PackedLayout.Create(512, 64).MemoryFraction, 12);
        Assert.Equal(0.625, PackedLayout.Create(512, 128).MemoryFraction, 12);
    }

    [Theory]
    [InlineData(3, 1, 12, 4)] [InlineData(5, 1, 12, 4)] [InlineData(5, 1, 11, 4)] [InlineData(3, 2, 13, 5)] [InlineData(1, 1, 7, 3)] [InlineData(9, 1, 16, 4)]
    public void ConvForwardAndGradientsEqualTheDenseConv(int k, int dilation, int l, int tile)
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
            var y = f(av + av.transpose(2, 3));
            y.mul(upstream).sum().backward();
            return (y.detach(), av.grad!.clone(), conv.TiedKernel.Theta.grad!.clone(), conv.Bias!.grad!.clone());
        }
        var dense = Run(conv.forward);
        var pk = Run(d => packed.forward(PackedSymmetricMap.Pack(d, tile)).Unpack());
        Assert.True(Deviation.Relative(pk.y, dense.y) <= Tol, $"forward {Deviation.Relative(pk.y, dense.y)}");
        Assert.True(Deviation.Relative(pk.ga, dense.ga) <= Tol, $"input grad {Deviation.Relative(pk.ga, dense.ga)}");
        Assert.True(Deviation.Relative(pk.gw, dense.gw) <= Tol, $"weight grad {Deviation.Relative(pk.gw, dense.gw)}");
        Assert.True(Deviation.Relative(pk.gb, dense.gb) <= Tol, $"bias grad {Deviation.Relative(pk.gb, dense.gb)}");
    }

    [Fact]
    public void HaloLargerThanTheTileIsRejected()
    {
        var conv = new PackedSymmetryPreservingConv2d(PairLayers.SymmetryPreservingConv2d(1, 1, 7));
        var x = PackedSymmetricMap.Pack(Sym(new Generator(2), 1, 1, 8, 8), 2);
        Assert.Contains("halo", Assert.Throws<ArgumentException>(() => conv.forward(x)).Message);
    }

    [Fact]
    public void BatchNormStatisticsEqualDenseBatchNorm()
    {
        var g = new Generator(5);
        var d = Sym(g, 3, 4, 11, 11).add(0.7);
        var bnDense = nn.BatchNorm2d(4);
        var bnPackedInner = nn.BatchNorm2d(4);
        var packed = new PackedBatchNorm2d(bnPackedInner);
        var yd = bnDense.forward(d);
        var yp = packed.forward(PackedSymmetricMap.Pack(d, 4)).Unpack();
        Assert.True(Deviation.Relative(yp, yd) <= Tol);
        Assert.True(Deviation.Relative(bnPackedInner.running_mean!, bnDense.running_mean!) <= 1e-5);
        Assert.True(Deviation.Relative(bnPackedInner.running_var!, bnDense.running_var!) <= 1e-5);
        bnDense.eval(); packed.eval();
        var e = Sym(g, 2, 4, 11, 11);
        Assert.True(Deviation.Relative(packed.forward(PackedSymmetricMap.Pack(e, 4)).Unpack(), bnDense.forward(e)) <= Tol);
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
    [InlineData(16, 4)] [InlineData(15, 4)]
    public void TrainingOnPackedMapsGivesTheDenseLossesAndGradients(int l, int tile)
    {
        var (dense, packed, packedParams) = Twins(9);
        var g = new Generator(10);
        var a = randn(new long[] { 2, 3, l, l }, generator: g);
        var target = Sym(g, 2, 2, l, l).sigmoid();
        var optD = optim.SGD(dense.parameters(), 0.5);
        var optP = optim.SGD(packed.parameters(), 0.5);
        Assert.Equal(dense.parameters().Count(), packed.parameters().Count());
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            var ad = a.detach().requires_grad_(true);
            var ap = a.detach().requires_grad_(true);
            optD.zero_grad(); optP.zero_grad();
            var lossD = nn.functional.mse_loss(dense.forward(ad + ad.transpose(2, 3)), target);
            var lossP = nn.functional.mse_loss(packed.forward(PackedSymmetricMap.Pack(ap + ap.transpose(2, 3), tile)).Unpack(), target);
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
        var p = new PackedReLU().forward(PackedSymmetricMap.Pack(d, 4));
        Assert.True(p.PendingRelu);
        Assert.Equal(0f, (p.Unpack() - d.relu()).abs().max().item<float>());
        Assert.True(Deviation.Relative(new PackedSigmoid().forward(p).Unpack(), d.relu().sigmoid()) <= 1e-6);
    }

    [Fact]
    public void DropoutMasksAreSymmetricAndScaled()
    {
        var d = Sym(new Generator(4), 2, 3, 13, 13).abs().add(1);
        var drop = new PackedDropout(0.3);
        var y = drop.forward(PackedSymmetricMap.Pack(d, 4)).Unpack();
        Assert.True(Deviation.Asymmetry(y) == 0);
        var ratio = y / d;
        var kept = ratio.gt(0);
        Assert.True(Deviation.Relative(ratio.masked_select(kept), full(1, 1 / 0.7f)) <= 1e-6);
        double frac = kept.to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(frac, 0.55, 0.85);
        drop.eval();
        Assert.Equal(0f, (drop.forward(PackedSymmetricMap.Pack(d, 4)).Unpack() - d).abs().max().item<float>());
        var dense = new SymmetricDropout(0.3);
        Assert.True(Deviation.Asymmetry(dense.forward(d)) == 0);
    }
}

public class PackedPipelineTests
{
    /// <summary>Sequence → generating layer → conv/BN/ReLU stack, padded batch: packed pipeline = dense pipeline.</summary>
    [Fact]
    public void GeneratingToPackedStackEqualsTheDensePipelineOnAPaddedBatch()
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
        up = up + up.transpose(2, 3);
        (Tensor loss, Tensor gx, Tensor gtheta) Run(Func<Tensor, Tensor> f)
        {
            var xv = x.detach().requires_grad_(true);
            gen.zero_grad(); dense.zero_grad();
            var loss = f(xv).mul(up).sum();
            loss.backward();
            return (loss.detach(), xv.grad!.clone(), cat(new[] { gen.Conv.TiedKernel.Theta.grad!.flatten(), conv.TiedKernel.Theta.grad!.flatten() }));
        }
        var d = Run(xv => dense.forward(gen.forward(xv, lengths)));
        var p = Run(xv => packed.forward(gen.ForwardPacked(xv, lengths, 4)).Unpack());
        Assert.True(Deviation.Relative(p.loss, d.loss) <= 1e-4, $"loss {Deviation.Relative(p.loss, d.loss)}");
        Assert.True(Deviation.Relative(p.gx, d.gx) <= 1e-4, $"x grad {Deviation.Relative(p.gx, d.gx)}");
        Assert.True(Deviation.Relative(p.gtheta, d.gtheta) <= 1e-4, $"theta grads {Deviation.Relative(p.gtheta, d.gtheta)}");
    }
}
