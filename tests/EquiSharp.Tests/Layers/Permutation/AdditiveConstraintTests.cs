using EquiSharp.Layers.Permutation;
using EquiSharp.Symmetry;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;
using EquiSharp.Training;

namespace EquiSharp.Tests.Layers.Permutation;

/// <summary>
/// The notes' additive constraint (eq. 28) W^h_hk + W^h_kh = W^k_hk + W^k_kh on an N×N×N quadratic tensor, handled by
/// the linear-constraint tying W = Bθ (B an orthonormal basis of the constraint space).
/// </summary>
public class AdditiveConstraintTests
{
    private static double Residual(double[] w, int n, int h, int k)
    {
        int F(int a, int b, int c) => (a * n + b) * n + c;
        return w[F(h, h, k)] + w[F(h, k, h)] - w[F(k, h, k)] - w[F(k, k, h)];
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(4)]
    public void EveryReachableWeightSatisfiesTheConstraints(int n)
    {
        var tying = new LinearConstraintTying(new long[] { n, n, n }, EquivariantPattern.NotesAdditiveConstraints(n));
        Assert.Equal(n * n * n - n * (n - 1) / 2, tying.FreeParameterCount);   // one independent equation per pair h < k
        using var w = new TiedWeight(tying, dtype: ScalarType.Float64);
        for (int trial = 0; trial < 10; trial++)
        {
            w.InitUniform(_ => 4.0, new Generator((ulong)trial));
            var v = w.Materialize().contiguous().data<double>().ToArray();
            Assert.True(v.Max(Math.Abs) > 0.1);
            for (int h = 0; h < n; h++)
                for (int k = h + 1; k < n; k++)
                    Assert.True(Math.Abs(Residual(v, n, h, k)) < 1e-12, $"residual {Residual(v, n, h, k)} at h={h}, k={k}");
        }
    }

    [Fact]
    public void AnUnconstrainedWeightViolatesTheConstraintSoTheCheckCanFail()
    {
        var v = randn(27, dtype: ScalarType.Float64, generator: new Generator(3)).data<double>().ToArray();
        Assert.True(Math.Abs(Residual(v, 3, 0, 1)) > 1e-3);
    }

    /// <summary>The equivariant orbit pattern (5 classes) satisfies eq. (28) automatically: W^h_hk = W^k_kh and W^h_kh = W^k_hk.</summary>
    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(5)]
    public void OrbitPatternSatisfiesTheAdditiveConstraint(int n)
    {
        var a = GroupAction.Natural(PermutationGroup.Symmetric(n));
        using var w = new TiedWeight(EquivariantPattern.Quadratic(a, a).Tying(), dtype: ScalarType.Float64);
        w.InitUniform(_ => 1.0, new Generator(9));
        var v = w.Materialize().contiguous().data<double>().ToArray();
        for (int h = 0; h < n; h++)
            for (int k = h + 1; k < n; k++)
                Assert.True(Math.Abs(Residual(v, n, h, k)) < 1e-15);
    }

    [Theory]
    [InlineData(3)] [InlineData(4)]
    public void GradientIsBTransposeGradientAndSgdStepIsTheOrthogonalProjection(int n)
    {
        var rows = EquivariantPattern.NotesAdditiveConstraints(n);
        var tying = new LinearConstraintTying(new long[] { n, n, n }, rows);
        using var w = new TiedWeight(tying, dtype: ScalarType.Float64);
        w.InitUniform(_ => 1.0, new Generator(1));
        var gen = new Generator(2);
        var x = randn(new long[] { 5, n }, dtype: ScalarType.Float64, generator: gen);
        var target = randn(new long[] { 5, n }, dtype: ScalarType.Float64, generator: gen);
        // loss of the quadratic map y_k = Σ_ij W[k,i,j] x_i x_j
        Tensor Loss(Tensor weight) => (einsum("kij,bi,bj->bk", weight, x, x) - target).pow(KeptScalar.Of(2)).sum();

        var before = w.Materialize().detach().clone();
        var dense = before.clone().requires_grad_(true);
        Loss(dense).backward();
        var gW = dense.grad!.reshape(-1).clone();

        Loss(w.Materialize()).backward();
        int size = n * n * n;
        var basis = tensor(tying.Basis.Cast<double>().ToArray(), new long[] { size, tying.FreeParameterCount }, dtype: ScalarType.Float64);
        Assert.True(PermutationChecks.RelativeDeviation(w.Theta.grad!, basis.t().matmul(gW)) < 1e-12);

        const double lr = 0.01;
        var sgd = Optimizers.Sgd(w.parameters(), lr);
        sgd.step();
        var moved = (w.Materialize().detach() - before).reshape(-1);
        // projection onto {W : A·vec(W) = 0} computed independently of B: P = I − A⁺A
        var aMat = tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, size }, dtype: ScalarType.Float64);
        var projection = eye(size, dtype: ScalarType.Float64) - linalg.pinv(aMat).matmul(aMat);
        var expected = projection.matmul(gW.mul(KeptScalar.Of(-lr)));
        Assert.True(PermutationChecks.RelativeDeviation(moved, expected) < 1e-10);
        // and it differs from the unprojected step (the constraint is active)
        Assert.True(PermutationChecks.RelativeDeviation(moved, gW.mul(KeptScalar.Of(-lr))) > 1e-3);
    }
}
