using EquiSharp.Layers.Permutation;
using EquiSharp.Symmetry;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.Permutation;

public class SetLayerTests
{
    public static IEnumerable<object[]> Sizes() => Enumerable.Range(1, 7).Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Sizes))]
    public void LinearIsEquivariantForRandomPermutations(int n)
    {
        foreach (var aggregation in new[] { "sum", "mean" })
        {
            var layer = PermutationLayers.PermutationEquivariantLinear(3, 5, aggregation: aggregation, dtype: ScalarType.Float64);
            Assert.True(PermutationChecks.EquivarianceDeviation(layer, n, trials: 5, seed: n) <= 1e-6);
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void QuadraticIsEquivariantForRandomPermutations(int n)
    {
        foreach (bool pairs in new[] { true, false })
        {
            var layer = PermutationLayers.PermutationEquivariantQuadratic(2, 3, symmetric_pairs: pairs, dtype: ScalarType.Float64);
            Assert.True(PermutationChecks.EquivarianceDeviation(layer, n, trials: 5, seed: 10 + n) <= 1e-6);
        }
    }

    [Fact]
    public void EquivarianceMeasureDetectsANonEquivariantMap()
    {
        // a position-dependent scaling: equivariant only if all scales are equal
        var scale = tensor(new double[] { 1, 2, 3, 4, 5 }).view(1, 5, 1);
        Assert.True(PermutationChecks.EquivarianceDeviation(x => x * scale, 1, ScalarType.Float64, 5, 5, seed: 3) > 0.1);
    }

    /// <summary>
    /// A map that breaks equivariance for one permutation per set only (the one that sorts it): random trials almost
    /// always miss it, trying every permutation of a set of 5 (120) cannot.
    /// </summary>
    [Fact]
    public void EveryPermutationIsTriedUpToFivePoints()
    {
        static Tensor MarkSorted(Tensor x)
        {
            var sorted = x.narrow(1, 1, x.shape[1] - 1).select(2, 0).gt(x.narrow(1, 0, x.shape[1] - 1).select(2, 0)).all(1); // (B)
            var y = x.clone();
            y.select(2, 0).select(1, 0).add_(sorted.to(x.dtype), KeptScalar.One);
            return y;
        }
        Assert.True(PermutationChecks.EquivarianceDeviation(MarkSorted, 1, ScalarType.Float64, 5, trials: 3, seed: 3) > 0.1);
        Assert.Equal(120, PermutationChecks.Permutations(5, trials: 3, new Generator(1)).Count());
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)]
    public void QuadraticSumsFormEqualsExplicitNCubedForm(int n)
    {
        foreach (bool pairs in new[] { true, false })
        {
            var layer = PermutationLayers.PermutationEquivariantQuadratic(3, 2, symmetric_pairs: pairs, dtype: ScalarType.Float64);
            var x = randn(new long[] { 6, n, 3 }, dtype: ScalarType.Float64);
            var a = layer.DenseTensor(n);
            Assert.Equal(new long[] { n, 2, n, 3, n, 3 }, a.shape);
            // explicit triple sum, independent of the layer's einsum reference
            var expected = (a.unsqueeze(0) * x.view(6, 1, 1, n, 3, 1, 1) * x.view(6, 1, 1, 1, 1, n, 3)).sum(new long[] { 3, 4, 5, 6 });
            Assert.True(PermutationChecks.RelativeDeviation(layer.forward(x), expected) < 1e-12);
        }
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(6)]
    public void LinearForOneChannelIsAlphaIPlusBetaOnesAndMatchesTheEnginePattern(int n)
    {
        var layer = PermutationLayers.PermutationEquivariantLinear(1, 1, dtype: ScalarType.Float64);
        double alpha = layer.Lambda.item<double>(), beta = layer.Gamma.item<double>();
        var w = layer.DenseWeight(n).reshape(n, n);
        var expected = eye(n, dtype: ScalarType.Float64).mul(KeptScalar.Of(alpha)).add(ones(n, n, dtype: ScalarType.Float64).mul(KeptScalar.Of(beta)), KeptScalar.One);
        Assert.True(PermutationChecks.RelativeDeviation(w, expected) < 1e-15);

        var g = PermutationGroup.Symmetric(n);
        var pattern = EquivariantPattern.Linear(GroupAction.Natural(g), GroupAction.Natural(g));
        using var tied = new TiedWeight(pattern.Tying(), dtype: ScalarType.Float64);
        tied.LoadFromDense(w.reshape(n, 1, n, 1));
        // the dense weight lies in the tied space: projecting it onto the orbits changes nothing
        Assert.True(PermutationChecks.RelativeDeviation(tied.Materialize().reshape(n, n), w) < 1e-15);
        var theta = tied.Theta.data<double>().ToArray();
        Assert.Equal(alpha + beta, theta[pattern.Partition.OrbitOf[0]], 12);             // diagonal class
        if (n > 1) Assert.Equal(beta, theta[pattern.Partition.OrbitOf[1]], 12);           // off-diagonal class
    }

    [Theory]
    [InlineData("sum", 1)] [InlineData("sum", 4)] [InlineData("mean", 1)] [InlineData("mean", 6)]
    public void LinearDenseWeightReproducesTheForward(string aggregation, int n)
    {
        var layer = PermutationLayers.PermutationEquivariantLinear(3, 2, aggregation: aggregation, dtype: ScalarType.Float64);
        using (no_grad()) layer.Bias!.copy_(tensor(new double[] { 0.3, -0.7 }));
        var x = randn(new long[] { 5, n, 3 }, dtype: ScalarType.Float64);
        var expected = einsum("koic,bic->bko", layer.DenseWeight(n), x).add(layer.Bias!, KeptScalar.One);
        Assert.True(PermutationChecks.RelativeDeviation(layer.forward(x), expected) < 1e-14);
    }

    [Fact]
    public void LinearDenseWeightIsNotOnTheOrbitsWhenPerturbed()
    {
        var layer = PermutationLayers.PermutationEquivariantLinear(2, 2, dtype: ScalarType.Float64);
        var g = PermutationGroup.Symmetric(4);
        var pattern = EquivariantPattern.Linear(GroupAction.Natural(g), GroupAction.Natural(g), 2, 2);
        var w = layer.DenseWeight(4).clone();
        Assert.Equal(0.0, PermutationChecks.OrbitViolation(w, pattern));
        w[0, 0, 1, 0] = w[0, 0, 1, 0].add(KeptScalar.Of(0.5), KeptScalar.One);
        Assert.True(PermutationChecks.OrbitViolation(w, pattern) > 0.01);
    }

    /// <summary>
    /// Each free parameter of the quadratic layer fills exactly one class of the engine's orbit pattern (so the layer is
    /// the pattern), and the gradient of each tied parameter equals the sum of ∂L/∂A over its class.
    /// </summary>
    [Theory]
    [InlineData(4, 1, 1, true)] [InlineData(4, 1, 1, false)] [InlineData(3, 2, 2, true)] [InlineData(3, 2, 2, false)] [InlineData(5, 2, 1, true)]
    public void QuadraticParametersAreEngineOrbitsAndGradientsAreClassSums(int n, int cin, int cout, bool pairs)
    {
        var layer = PermutationLayers.PermutationEquivariantQuadratic(cin, cout, symmetric_pairs: pairs, dtype: ScalarType.Float64);
        var g = PermutationGroup.Symmetric(n);
        var pattern = EquivariantPattern.Quadratic(GroupAction.Natural(g), GroupAction.Natural(g), pairs, cin, cout);
        Assert.Equal(pattern.FreeParameterCount, layer.FreeParameterCount);
        var members = pattern.Partition.Members();

        // 1. unit parameter -> indicator of one orbit
        var thetas = layer.ClassWeights.Select(c => c.Theta).ToArray();
        var saved = thetas.Select(t => t.detach().clone()).ToArray();
        var parameterOrbit = new List<(int Class, int Index, int Orbit)>();
        using (no_grad())
        {
            for (int c = 0; c < thetas.Length; c++)
                for (int p = 0; p < thetas[c].shape[0]; p++)
                {
                    foreach (var t in thetas) t.zero_();
                    thetas[c][p] = 1.0;
                    var dense = layer.DenseTensor(n).contiguous().data<double>().ToArray();
                    var hit = Enumerable.Range(0, dense.Length).Where(e => dense[e] != 0).ToArray();
                    Assert.All(hit, e => Assert.Equal(1.0, dense[e]));
                    int orbit = pattern.Partition.OrbitOf[hit[0]];
                    Assert.Equal(members[orbit].OrderBy(e => e), hit);
                    parameterOrbit.Add((c, p, orbit));
                }
            for (int c = 0; c < thetas.Length; c++) thetas[c].copy_(saved[c]);
        }
        Assert.Equal(pattern.FreeParameterCount, parameterOrbit.Select(q => q.Orbit).Distinct().Count());

        // 2. gradient through the efficient forward = class sum of dL/dA from the explicit form
        var x = randn(new long[] { 3, n, cin }, dtype: ScalarType.Float64, generator: new Generator(5));
        var r = randn(new long[] { 3, n, cout }, dtype: ScalarType.Float64, generator: new Generator(6));
        Tensor Loss(Tensor y) => (y.tanh() * r).sum();
        var a = layer.DenseTensor(n).detach().clone().requires_grad_(true);
        Loss(einsum("koicjd,bic,bjd->bko", a, x, x)).backward();
        var dLdA = a.grad!.contiguous().data<double>().ToArray();
        Loss(layer.forward(x)).backward();
        foreach (var (c, p, orbit) in parameterOrbit)
        {
            double expected = members[orbit].Sum(e => dLdA[e]);
            Assert.Equal(expected, thetas[c].grad![p].item<double>(), 10);
        }
    }

    /// <summary>Without the identification, k=i≠j and k=j≠i multiply the same monomials: moving t from one to the other (channels transposed) changes nothing.</summary>
    [Fact]
    public void FiveClassLayerHasAnUnidentifiableDirection()
    {
        var layer = PermutationLayers.PermutationEquivariantQuadratic(2, 3, symmetric_pairs: false, dtype: ScalarType.Float64);
        var x = randn(new long[] { 4, 6, 2 }, dtype: ScalarType.Float64);
        var before = layer.forward(x).detach().clone();
        var delta = randn(new long[] { 3, 2, 2 }, dtype: ScalarType.Float64);
        using (no_grad())
        {
            layer.ClassWeights[1].Theta.add_(delta.reshape(-1), KeptScalar.One);                      // k=i≠j
            layer.ClassWeights[2].Theta.sub_(delta.transpose(1, 2).reshape(-1));     // k=j≠i
        }
        Assert.True(PermutationChecks.RelativeDeviation(layer.forward(x), before) < 1e-13);
        using (no_grad()) layer.ClassWeights[1].Theta.add_(delta.reshape(-1), KeptScalar.One);     // a change that is not along that direction is seen
        Assert.True(PermutationChecks.RelativeDeviation(layer.forward(x), before) > 1e-3);
    }

    [Fact]
    public void SameParametersServeEverySetSize()
    {
        var layer = PermutationLayers.PermutationEquivariantQuadratic(1, 1, dtype: ScalarType.Float64);
        // y_k = x_k Σ_{j≠k} x_j: the k=i≠j class with 2·P = 1, others 0
        using (no_grad())
        {
            foreach (var c in layer.ClassWeights) c.Theta.zero_();
            layer.ClassWeights[1].Theta.fill_(KeptScalar.Of(0.5));
        }
        foreach (int n in new[] { 2, 5, 10, 40 })
        {
            var x = randn(new long[] { 3, n, 1 }, dtype: ScalarType.Float64);
            var expected = x * (x.sum(1, keepdim: true) - x);
            Assert.True(PermutationChecks.RelativeDeviation(layer.forward(x), expected) < 1e-12);
        }
    }

    [Fact]
    public void InvariantPoolReducesTheSetAxisAndIsInvariant()
    {
        var x = randn(new long[] { 2, 5, 3 }, dtype: ScalarType.Float64);
        var p = tensor(new long[] { 3, 0, 4, 1, 2 });
        foreach (var reduction in new[] { "sum", "mean", "max" })
        {
            var pool = PermutationLayers.InvariantPool(reduction);
            var y = pool.forward(x);
            Assert.Equal(new long[] { 2, 3 }, y.shape);
            Assert.True(PermutationChecks.RelativeDeviation(pool.forward(x.index_select(1, p)), y) < 1e-15);
        }
        Assert.True(PermutationChecks.RelativeDeviation(PermutationLayers.InvariantPool("mean").forward(x), x.mean(new long[] { 1 })) < 1e-15);
        Assert.Throws<ArgumentException>(() => PermutationLayers.InvariantPool("median"));
    }

    [Fact]
    public void BadInputsAreRejectedWithClearMessages()
    {
        var lin = PermutationLayers.PermutationEquivariantLinear(3, 2);
        var e = Assert.Throws<ArgumentException>(() => lin.forward(randn(4, 5, 2)));
        Assert.Contains("(…, N, 3)", e.Message);
        Assert.Throws<ArgumentException>(() => PermutationLayers.PermutationEquivariantLinear(3, 2, aggregation: "max"));
        Assert.Throws<ArgumentException>(() => PermutationLayers.PermutationEquivariantQuadratic(0, 2));
        var q = PermutationLayers.PermutationEquivariantQuadratic(2, 2);
        Assert.Throws<ArgumentException>(() => q.forward(randn(4, 0, 2)));
    }

    [Fact]
    public void LayersRunOnFloat32AndBackpropagate()
    {
        var lin = PermutationLayers.PermutationEquivariantLinear(2, 4);
        var q = PermutationLayers.PermutationEquivariantQuadratic(4, 1);
        var x = randn(8, 6, 2);
        var loss = q.forward(lin.forward(x)).pow(KeptScalar.Of(2)).mean();
        loss.backward();
        Assert.NotNull(lin.Lambda.grad);
        Assert.True(q.ClassWeights.All(c => c.Theta.grad is not null && c.Theta.grad.abs().sum().item<float>() > 0));
        Assert.Equal(lin.FreeParameterCount + q.FreeParameterCount, lin.parameters().Concat(q.parameters()).Sum(p => p.numel()));
    }
}
