using EquiSharp.Layers.Pairwise;
using EquiSharp.Symmetry;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;
using EquiSharp.Training;

namespace EquiSharp.Tests.Symmetry;

public class EngineTests
{
    [Theory]
    [InlineData(1)] [InlineData(3)] [InlineData(5)] [InlineData(9)] [InlineData(13)]
    public void GeneratingKernelHasCCplus1nFOver2FreeParameters(int c)
    {
        const int n = 3, f = 2;
        var orbits = PairKernelSymmetries.Generating(f, 2 * n, c).Orbits();
        Assert.Equal(c * (c + 1) * n * f / 2, orbits.Count);
        Assert.Equal(n * f * c * c, PairKernelSymmetries.GeneratingWide(f, 2 * n, c).Orbits().Count);
    }

    [Theory]
    [InlineData(1)] [InlineData(3)] [InlineData(5)] [InlineData(9)] [InlineData(13)]
    public void PreservingKernelHasCCplus1mFOver2FreeParameters(int c)
    {
        const int m = 4, f = 3;
        Assert.Equal(c * (c + 1) * m * f / 2, PairKernelSymmetries.Preserving(f, m, c).Orbits().Count);
    }

    [Fact]
    public void OrbitMultiplicitiesAreFourAndTwoForGeneratingKernel()
    {
        var m = PairKernelSymmetries.Generating(1, 2, 3).Orbits().Multiplicities();
        Assert.Equal(3, m.Count(x => x == 2));      // diagonal i = j
        Assert.Equal(3, m.Count(x => x == 4));      // off-diagonal pairs
    }

    [Fact]
    public void SignedTransposeGivesAntisymmetricWeightsWithZeroDiagonal()
    {
        var shape = new long[] { 4, 4 };
        var t = IndexAction.TransposeAxes(shape, 0, 1);
        var anti = new IndexAction(shape, t.Target, Enumerable.Repeat((sbyte)-1, 16).ToArray(), "antitranspose");
        var tying = new OrbitTying(new WeightSymmetry(shape, new[] { anti }));
        Assert.Equal(6, tying.FreeParameterCount);
        using var w = new TiedWeight(tying);
        w.InitUniform(_ => 1.0);
        var m = w.Materialize();
        Assert.Equal(0f, (m.add(m.t(), KeptScalar.One)).abs().max().item<float>());
        Assert.Equal(0f, m.diagonal().abs().max().item<float>());
        Assert.True(m.abs().max().item<float>() > 0);
    }

    [Fact]
    public void ComposeAppliesFirstThenSecond()
    {
        var shape = new long[] { 3 };
        var shift = IndexAction.PermuteWithinAxis(shape, 0, new[] { 1, 2, 0 });
        var rev = IndexAction.ReverseAxis(shape, 0);
        var both = IndexAction.Compose(shift, rev);
        Assert.Equal(new[] { rev.Target[1], rev.Target[2], rev.Target[0] }, both.Target);
    }

    [Fact]
    public void BadActionsAreRejectedWithClearMessages()
    {
        var e = Assert.Throws<ArgumentException>(() => IndexAction.TransposeAxes(new long[] { 2, 3 }, 0, 1));
        Assert.Contains("equal sizes", e.Message);
        Assert.Throws<ArgumentException>(() => IndexAction.SwapHalves(new long[] { 3 }, 0));
        Assert.Throws<ArgumentException>(() => new IndexAction(new long[] { 3 }, new[] { 0, 0, 1 }));
    }

    /// <summary>Theorem 2 / eq. (3): ∂L/∂S_{i,j,k,f} is the sum of the four (or two) tied entries' gradients.</summary>
    [Fact]
    public void GeneratingKernelGradientEqualsEquation3EntryByEntry()
    {
        const int f = 3, n = 2, c = 3;
        var tying = new OrbitTying(PairKernelSymmetries.Generating(f, 2 * n, c));
        using var w = new TiedWeight(tying);
        w.InitUniform(_ => 1.0);
        var (dLdW, dLdTheta) = RandomLossGradients(w, seed: 1);
        long Flat(int ff, int k, int i, int j) => ((ff * 2L * n + k) * c + i) * c + j;
        for (int ff = 0; ff < f; ff++)
        for (int k = 0; k < n; k++)
        for (int i = 0; i < c; i++)
        for (int j = 0; j <= i; j++)
        {
            int o = tying.Partition.OrbitOf[Flat(ff, k, i, j)];
            double expected = i > j
                ? dLdW[Flat(ff, k, i, j)] + dLdW[Flat(ff, k, j, i)] + dLdW[Flat(ff, k + n, i, j)] + dLdW[Flat(ff, k + n, j, i)]
                : dLdW[Flat(ff, k, i, i)] + dLdW[Flat(ff, k + n, i, i)];
            Assert.Equal(expected, dLdTheta[o], 4);
        }
    }

    /// <summary>Eq. (5): ∂L/∂R_{i,j,k,f} = ∂L/∂Q_{i,j,k,f} + ∂L/∂Q_{j,i,k,f} (i &gt; j), ∂L/∂Q_{i,i,k,f} on the diagonal.</summary>
    [Fact]
    public void PreservingKernelGradientEqualsEquation5EntryByEntry()
    {
        const int f = 2, m = 3, c = 5;
        var tying = new OrbitTying(PairKernelSymmetries.Preserving(f, m, c));
        using var w = new TiedWeight(tying);
        w.InitUniform(_ => 1.0);
        var (dLdW, dLdTheta) = RandomLossGradients(w, seed: 2);
        long Flat(int ff, int k, int i, int j) => ((ff * (long)m + k) * c + i) * c + j;
        for (int ff = 0; ff < f; ff++)
        for (int k = 0; k < m; k++)
        for (int i = 0; i < c; i++)
        for (int j = 0; j <= i; j++)
        {
            int o = tying.Partition.OrbitOf[Flat(ff, k, i, j)];
            double expected = i > j ? dLdW[Flat(ff, k, i, j)] + dLdW[Flat(ff, k, j, i)] : dLdW[Flat(ff, k, i, i)];
            Assert.Equal(expected, dLdTheta[o], 4);
        }
    }

    /// <summary>A random nonlinear loss; returns ∂L/∂W at the materialised W and ∂L/∂θ by autograd through the gather.</summary>
    private static (float[] dLdW, float[] dLdTheta) RandomLossGradients(TiedWeight w, int seed)
    {
        var g = new Generator((ulong)seed);
        var r = randn(w.Shape, generator: g);
        var q = randn(w.Shape, generator: g);
        Tensor Loss(Tensor weight) => ((weight.sin() * r).add(weight.pow(KeptScalar.Of(2)) * q, KeptScalar.One)).sum();

        var dense = w.Materialize().detach().clone().requires_grad_(true);
        Loss(dense).backward();
        var dLdW = dense.grad!.contiguous().data<float>().ToArray();

        w.Theta.grad?.zero_();
        Loss(w.Materialize()).backward();
        return (dLdW, w.Theta.grad!.data<float>().ToArray());
    }

    [Fact]
    public void LoadFromDenseRecoversTiedWeightExactly()
    {
        using var w = new TiedWeight(new OrbitTying(PairKernelSymmetries.Generating(2, 4, 3)));
        w.InitUniform(_ => 1.0);
        var original = w.Materialize().detach().clone();
        using var other = new TiedWeight(new OrbitTying(PairKernelSymmetries.Generating(2, 4, 3)));
        other.LoadFromDense(original);
        Assert.Equal(0f, (other.Materialize() - original).abs().max().item<float>());
    }
}

/// <summary>The notes' additive constraint x + y = u + v as a linear-constraint tying W = Bθ.</summary>
public class LinearConstraintTests
{
    private static readonly double[][] XPlusYEqualsUPlusV = { new double[] { 1, 1, -1, -1 } };

    [Fact]
    public void BasisIsOrthonormalAndSpansTheConstraintSpace()
    {
        var tying = new LinearConstraintTying(new long[] { 4 }, XPlusYEqualsUPlusV);
        Assert.Equal(3, tying.FreeParameterCount);
        var b = tying.Basis;
        for (int p = 0; p < 3; p++)
        for (int q = 0; q < 3; q++)
        {
            double dot = Enumerable.Range(0, 4).Sum(i => b[i, p] * b[i, q]);
            Assert.Equal(p == q ? 1.0 : 0.0, dot, 10);
        }
    }

    [Fact]
    public void EveryReachableWeightSatisfiesTheConstraint()
    {
        using var w = new TiedWeight(new LinearConstraintTying(new long[] { 4 }, XPlusYEqualsUPlusV));
        for (int trial = 0; trial < 20; trial++)
        {
            w.InitUniform(_ => 10.0);
            var v = w.Materialize().data<float>().ToArray();
            Assert.True(Math.Abs(v[0] + v[1] - v[2] - v[3]) < 1e-5, $"x+y-u-v = {v[0] + v[1] - v[2] - v[3]}");
        }
    }

    [Fact]
    public void GradientIsBTransposeTimesWeightGradientAndSgdStepIsTheProjection()
    {
        using var w = new TiedWeight(new LinearConstraintTying(new long[] { 4 }, XPlusYEqualsUPlusV), dtype: ScalarType.Float64);
        w.InitUniform(_ => 1.0);
        var target = tensor(new double[] { 3, -1, 0.5, 2 });
        Tensor Loss(Tensor weight) => (weight - target).pow(KeptScalar.Of(3)).abs().sum();

        var before = w.Materialize().detach().clone();
        var dense = before.clone().requires_grad_(true);
        Loss(dense).backward();
        var gW = dense.grad!.clone();

        Loss(w.Materialize()).backward();
        var basis = tensor(ToFlat(((LinearConstraintTying)w.Tying).Basis), new long[] { 4, 3 }, dtype: ScalarType.Float64);
        Assert.True((w.Theta.grad! - basis.t().matmul(gW)).abs().max().item<double>() < 1e-12);

        const double lr = 0.1;
        var sgd = Optimizers.Sgd(w.parameters(), lr);
        sgd.step();
        var moved = w.Materialize().detach() - before;
        var a = tensor(new double[] { 1, 1, -1, -1 });
        var projection = eye(4, dtype: ScalarType.Float64) - a.outer(a) / a.dot(a);
        var expected = projection.matmul(gW.mul(KeptScalar.Of(-lr)));
        Assert.True((moved - expected).abs().max().item<double>() < 1e-12);
    }

    private static double[] ToFlat(double[,] m) => m.Cast<double>().ToArray();
}
