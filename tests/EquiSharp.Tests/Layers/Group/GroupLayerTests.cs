using EquiSharp.Layers;
using EquiSharp.Layers.Group;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.Group;

/// <summary>
/// An implementation of p4 / p4m written independently of <see cref="PlanarGroup"/>: elements are 2×2 integer
/// matrices M = F^s R^k acting on centred (row, column) coordinates, R = [[0,−1],[1,0]] (90°, as torch.rot90 turns an
/// image) and F = [[1,0],[0,−1]] (column mirror); element index s·4 + k. Products and inverses are matrix products.
/// </summary>
internal sealed class MatrixGroup
{
    public readonly int Order;
    private readonly int[][] matrices;

    public MatrixGroup(int order)
    {
        Order = order;
        matrices = new int[order][];
        for (int g = 0; g < order; g++)
        {
            var m = new[] { 1, 0, 0, 1 };
            for (int k = 0; k < g % 4; k++) m = Mul(new[] { 0, -1, 1, 0 }, m);
            if (g / 4 == 1) m = Mul(new[] { 1, 0, 0, -1 }, m);
            matrices[g] = m;
        }
    }

    private static int[] Mul(int[] a, int[] b) => new[] { a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3] };
    private int IndexOf(int[] m) => Enumerable.Range(0, Order).Single(g => matrices[g].SequenceEqual(m));
    public int Inverse(int g) => Enumerable.Range(0, Order).Single(h => Mul(matrices[g], matrices[h]).SequenceEqual(new[] { 1, 0, 0, 1 }));
    public int Product(int a, int b) => IndexOf(Mul(matrices[a], matrices[b]));

    /// <summary>Grid point (i, j) of an n×n grid moved by g about the grid's centre (doubled coordinates stay integral).</summary>
    public (int, int) Move(int g, int i, int j, int n)
    {
        int u = 2 * i - (n - 1), v = 2 * j - (n - 1);
        var m = matrices[g];
        int u2 = m[0] * u + m[1] * v, v2 = m[2] * u + m[3] * v;
        return ((u2 + n - 1) / 2, (v2 + n - 1) / 2);
    }

    /// <summary>(L_u f)(g, x) = f(u⁻¹g, u⁻¹x) on (B, C·|G|, n, n), or (L_u f)(x) = f(u⁻¹x) when <paramref name="groupAxis"/> is false — by loops.</summary>
    public float[,,,] Transform(float[,,,] f, int u, bool groupAxis)
    {
        int b = f.GetLength(0), ch = f.GetLength(1), n = f.GetLength(2);
        var result = new float[b, ch, n, n];
        int ui = Inverse(u);
        for (int bi = 0; bi < b; bi++)
            for (int c = 0; c < ch; c++)
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                    {
                        var (si, sj) = Move(ui, i, j, n);
                        int source = groupAxis ? c / Order * Order + Product(ui, c % Order) : c;
                        result[bi, c, i, j] = f[bi, source, si, sj];
                    }
        return result;
    }

    public static float[,,,] ToArray(Tensor t)
    {
        var s = t.shape;
        var data = t.contiguous().data<float>().ToArray();
        var a = new float[s[0], s[1], s[2], s[3]];
        Buffer.BlockCopy(data, 0, a, 0, data.Length * sizeof(float));
        return a;
    }

    public static Tensor ToTensor(float[,,,] a)
    {
        var flat = new float[a.Length];
        Buffer.BlockCopy(a, 0, flat, 0, flat.Length * sizeof(float));
        return tensor(flat, new long[] { a.GetLength(0), a.GetLength(1), a.GetLength(2), a.GetLength(3) });
    }
}

public sealed class GroupLayerTests
{
    private static PlanarGroup GroupOf(int order) => order == 4 ? PlanarGroup.P4 : PlanarGroup.P4m;

    private static PlanarGroupConvolution Layer(int order, bool lifting, long c, long f, long k, long stride = 1, ConvolutionPadding? padding = null)
    {
        PlanarGroupConvolution conv = lifting
            ? new GroupLiftingConv2d(GroupOf(order), c, f, k, stride, padding)
            : new GroupConv2d(GroupOf(order), c, f, k, stride, padding);
        using (no_grad()) conv.TiedBias!.Theta.normal_();
        conv.InvalidateCache();
        return conv;
    }

    [Theory]
    [InlineData(4, true, 3)]
    [InlineData(4, false, 3)]
    [InlineData(4, false, 4)]
    [InlineData(8, true, 3)]
    [InlineData(8, false, 3)]
    [InlineData(8, false, 2)]
    public void EveryFilterIsTheTransformedBaseFilterEntryByEntry(int order, bool lifting, long k)
    {
        manual_seed(3);
        var G = new MatrixGroup(order);
        using var conv = Layer(order, lifting, 2, 3, k);
        int gin = lifting ? 1 : order;
        var w = conv.Weight().contiguous().data<float>().ToArray();
        long F = 3, C = 2, K = k;
        float W(long o, long i, long a, long b) => w[((o * (C * gin) + i) * K + a) * K + b];
        Assert.Equal(F * C * gin * K * K, conv.FreeParameterCount - F);   // ψ plus one bias per G-feature map
        // ψ = the filters of the identity element; its entries are all distinct (no extra ties)
        var psi = new List<float>();
        for (long f = 0; f < F; f++) for (long i = 0; i < C * gin; i++) for (long a = 0; a < K; a++) for (long b = 0; b < K; b++) psi.Add(W(f * order, i, a, b));
        Assert.Equal(psi.Count, psi.Distinct().Count());
        int checkedEntries = 0;
        for (long f = 0; f < F; f++)
            for (int g = 0; g < order; g++)
                for (long c = 0; c < C; c++)
                    for (int h = 0; h < gin; h++)
                        for (int a = 0; a < K; a++)
                            for (int b = 0; b < K; b++)
                            {
                                int gi = G.Inverse(g);
                                int hSource = lifting ? 0 : G.Product(gi, h);
                                var (sa, sb) = G.Move(gi, a, b, (int)K);
                                Assert.Equal(W(f * order, c * gin + hSource, sa, sb), W(f * order + g, c * gin + h, a, b));
                                checkedEntries++;
                            }
        Assert.Equal(F * order * C * gin * K * K, checkedEntries);
        var bias = conv.BiasVector()!.data<float>().ToArray();
        for (long f = 0; f < F; f++) for (int g = 0; g < order; g++) Assert.Equal(bias[f * order], bias[f * order + g]);
    }

    [Theory]
    [InlineData(4, true, 15, 3, 1, "valid")]
    [InlineData(4, true, 16, 3, 1, "valid")]
    [InlineData(4, false, 15, 3, 1, "valid")]
    [InlineData(4, false, 14, 3, 1, "same")]
    [InlineData(4, false, 13, 3, 1, "same")]
    [InlineData(4, false, 16, 4, 2, "valid")]
    [InlineData(4, false, 12, 4, 1, "valid")]
    [InlineData(8, true, 15, 3, 1, "valid")]
    [InlineData(8, true, 14, 3, 1, "valid")]
    [InlineData(8, false, 15, 3, 2, "valid")]
    [InlineData(8, false, 16, 3, 1, "same")]
    public void RotatingAndMirroringTheInputTransformsTheOutputExactly(int order, bool lifting, int size, long k, long stride, string padding)
    {
        manual_seed(4);
        var G = new MatrixGroup(order);
        var pad = padding == "same" ? ConvolutionPadding.Same : ConvolutionPadding.Valid;
        using var conv = Layer(order, lifting, 2, 3, k, stride, pad);
        var x = randn(2, conv.InChannels, size, size);
        var xa = MatrixGroup.ToArray(x);
        var y = MatrixGroup.ToArray(conv.forward(x).detach());
        for (int u = 1; u < order; u++)   // every element, not only generators
        {
            var yu = conv.forward(MatrixGroup.ToTensor(G.Transform(xa, u, !lifting))).detach();
            var expected = MatrixGroup.ToTensor(G.Transform(y, u, true));
            Assert.True(Deviation.Relative(yu, expected) <= 1e-5, $"u={u}: {Deviation.Relative(yu, expected)}");
        }
        Assert.True(conv.MeasureEquivariance(size) <= 1e-5);
    }

    [Fact]
    public void RotatingOnlyTheSpatialAxesIsNotEnough()
    {
        // the group axis must be permuted too: a spatial rotation alone misses by O(1)
        manual_seed(5);
        using var conv = Layer(4, false, 2, 3, 3);
        var x = randn(1, 8, 11, 11);
        var y = conv.forward(x).detach();
        var yr = conv.forward(PlanarGroup.P4.TransformFeatures(x, 1)).detach();
        Assert.True(Deviation.Relative(yr, rot90(y, 1, (-2, -1))) > 0.1);
        Assert.True(Deviation.Relative(yr, PlanarGroup.P4.TransformFeatures(y, 1)) <= 1e-5);
    }

    [Theory]
    [InlineData(4, true)]
    [InlineData(4, false)]
    [InlineData(8, false)]
    public void FreeParameterGradientIsTheOrbitSumOfTheDenseKernelGradient(int order, bool lifting)
    {
        manual_seed(6);
        var G = new MatrixGroup(order);
        using var conv = Layer(order, lifting, 2, 3, 3);
        using var dense = conv.ToDense();
        var x = randn(2, conv.InChannels, 9, 9);
        var target = randn(conv.forward(x).shape);
        Tensor Loss(Tensor y) => (y.tanh() - target).pow(KeptScalar.Of(2)).sum();
        Loss(conv.forward(x)).backward();
        Loss(dense.forward(x)).backward();
        int gin = lifting ? 1 : order;
        long F = 3, C = 2, K = 3, I = C * gin;
        var dW = dense.weight!.grad!.contiguous().data<float>().ToArray();
        var theta = conv.TiedKernel.Theta;
        var dTheta = theta.grad!.data<float>().ToArray();
        // θ is ψ in row-major (f, c·|G_in| + h, a, b) order: the identity element's filters
        var w = conv.Weight().contiguous().data<float>().ToArray();
        var th = theta.data<float>().ToArray();
        for (long p = 0; p < th.Length; p++)
        {
            long f = p / (I * K * K), rest = p % (I * K * K);
            Assert.Equal(th[p], w[f * order * I * K * K + rest]);
        }
        double worst = 0, scale = 0;
        for (long f = 0; f < F; f++)
            for (long c = 0; c < C; c++)
                for (int h = 0; h < gin; h++)
                    for (int a = 0; a < K; a++)
                        for (int b = 0; b < K; b++)
                        {
                            double sum = 0;
                            for (int g = 0; g < order; g++)
                            {
                                // ψ[h, x] sits at W[g, g·h, g·x]
                                int gh = lifting ? 0 : G.Product(g, h);
                                var (ga, gb) = G.Move(g, a, b, (int)K);
                                sum += dW[(((f * order + g) * I + c * gin + gh) * K + ga) * K + gb];
                            }
                            double engine = dTheta[((f * I + c * gin + h) * K + a) * K + b];
                            worst = Math.Max(worst, Math.Abs(engine - sum));
                            scale = Math.Max(scale, Math.Abs(sum));
                        }
        Assert.True(scale > 0);
        Assert.True(worst <= 1e-5 * scale, $"max |∂L/∂θ − orbit sum| = {worst}, scale {scale}");
        // the tied bias: one gradient per G-feature map, the sum over its |G| channels
        var dBias = conv.TiedBias!.Theta.grad!.data<float>().ToArray();
        var dDenseBias = dense.bias!.grad!.data<float>().ToArray();
        for (long f = 0; f < F; f++)
            Assert.True(Math.Abs(dBias[f] - Enumerable.Range(0, order).Sum(g => dDenseBias[f * order + g])) <= 1e-4 * (1 + Math.Abs(dBias[f])));
    }

    [Fact]
    public void SpatialMaxPoolRefusesAnAsymmetricGridWithAMessage()
    {
        var pool = new GroupMaxPool2d(PlanarGroup.P4, 2);
        var e = Assert.Throws<ArgumentException>(() => pool.forward(zeros(1, 4, 25, 25)));
        Assert.Contains("does not tile height = 25 symmetrically", e.Message);
        Assert.Equal(new long[] { 1, 4, 12, 12 }, pool.forward(zeros(1, 4, 24, 24)).shape);
        Assert.Equal(new long[] { 1, 4, 12, 12 }, new GroupMaxPool2d(PlanarGroup.P4, 3, 2).forward(zeros(1, 4, 25, 25)).shape);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void PoolingAndBatchNormAreEquivariantAndExportToPlainModules(int order)
    {
        manual_seed(7);
        var group = GroupOf(order);
        var G = new MatrixGroup(order);
        var x = randn(3, 2 * order, 10, 10).mul(KeptScalar.Of(2)).add(KeptScalar.Of(0.5), KeptScalar.One);
        var xa = MatrixGroup.ToArray(x);
        foreach (var reduction in new[] { "max", "mean" })
        {
            var pool = new GroupPool(group, reduction);
            var y = pool.forward(x);
            Assert.Equal(new long[] { 3, 2, 10, 10 }, y.shape);
            Assert.True(Deviation.Relative(pool.ToDenseModule().forward(x), y) <= 1e-6);
            for (int u = 1; u < order; u++)
                Assert.True(Deviation.Relative(pool.forward(MatrixGroup.ToTensor(G.Transform(xa, u, true))),
                    MatrixGroup.ToTensor(G.Transform(MatrixGroup.ToArray(y), u, false))) <= 1e-6);
        }
        var bn = new GroupBatchNorm2d(group, 2);
        Assert.Equal(4, bn.FreeParameterCount);
        var yb = bn.forward(x).detach();
        // statistics are shared over the group axis: each G-feature map is normalised as one feature
        var first = yb.narrow(1, 0, order);
        Assert.True(Math.Abs(first.mean().item<float>()) < 1e-5 && Math.Abs(first.var(unbiased: false).item<float>() - 1) < 1e-3);
        for (int u = 1; u < order; u++)
            Assert.True(Deviation.Relative(bn.forward(MatrixGroup.ToTensor(G.Transform(xa, u, true))), MatrixGroup.ToTensor(G.Transform(MatrixGroup.ToArray(yb), u, true))) <= 1e-5);
        bn.eval();
        Assert.True(Deviation.Relative(bn.ToDenseModule().forward(x), bn.forward(x)) <= 1e-6);
    }
}
