using EquiSharp.Symmetry;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Permutation;

/// <summary>Exactness checks of the set layers: equivariance under random permutations, the N³ identity, the engine patterns.</summary>
[CheckFamily(Order = 10)]
public static class PermutationChecks
{
    /// <summary>Set sizes every equivariance check covers.</summary>
    public static readonly int[] SetSizes = { 1, 2, 3, 4, 5, 6, 7 };

    public static IEnumerable<EquivarianceCheck> All()
    {
        foreach (var aggregation in new[] { "sum", "mean" })
            yield return new($"permutation.linear ({aggregation}) N=1..7 (all permutations to N=5): permuted input -> permuted output", () =>
                SetSizes.Max(n => EquivarianceDeviation(PermutationLayers.PermutationEquivariantLinear(3, 4, aggregation: aggregation, dtype: ScalarType.Float64), n, 3, seed: 100 + n)),
                1e-6);
        foreach (bool pairs in new[] { true, false })
            yield return new($"permutation.quadratic ({(pairs ? "4" : "5")} classes) N=1..7 (all permutations to N=5): permuted input -> permuted output", () =>
                SetSizes.Max(n => EquivarianceDeviation(PermutationLayers.PermutationEquivariantQuadratic(3, 2, symmetric_pairs: pairs, dtype: ScalarType.Float64), n, 3, seed: 200 + n)),
                1e-6);
        yield return new("permutation.quadratic N=1..5: sums-and-products form equals explicit N^3 form", () =>
            new[] { 1, 2, 3, 4, 5 }.Max(n =>
            {
                var q = PermutationLayers.PermutationEquivariantQuadratic(2, 3, dtype: ScalarType.Float64);
                var x = randn(new long[] { 4, n, 2 }, dtype: ScalarType.Float64, generator: new Generator((ulong)(300 + n)));
                return RelativeDeviation(q.forward(x), q.ForwardDense(x));
            }), 1e-10);
        yield return new("permutation.linear N=1..6: dense weight is constant on the engine's sym:N orbits", () =>
            Enumerable.Range(1, 6).Max(n =>
            {
                var layer = PermutationLayers.PermutationEquivariantLinear(2, 3, dtype: ScalarType.Float64);
                var g = PermutationGroup.Symmetric(n);
                var pattern = EquivariantPattern.Linear(GroupAction.Natural(g), GroupAction.Natural(g), 2, 3);
                return OrbitViolation(layer.DenseWeight(n), pattern);
            }), 1e-12);
        yield return new("permutation.quadratic N=1..5: dense tensor is constant on the engine's sym:N orbits (pairs identified)", () =>
            new[] { 1, 2, 3, 4, 5 }.Max(n =>
            {
                var layer = PermutationLayers.PermutationEquivariantQuadratic(2, 2, dtype: ScalarType.Float64);
                var g = PermutationGroup.Symmetric(n);
                var pattern = EquivariantPattern.Quadratic(GroupAction.Natural(g), GroupAction.Natural(g), symmetricPairs: true, 2, 2);
                return OrbitViolation(layer.DenseTensor(n), pattern);
            }), 1e-12);
        foreach (var reduction in new[] { "sum", "mean", "max" })
            yield return new($"permutation.pool ({reduction}) N=1..7 (all permutations to N=5): output unchanged by permuting the set", () =>
                SetSizes.Max(n =>
                {
                    var gen = new Generator((ulong)(400 + n));
                    var pool = PermutationLayers.InvariantPool(reduction);
                    var x = randn(new long[] { 5, n, 3 }, dtype: ScalarType.Float64, generator: gen);
                    var y = pool.forward(x);
                    return Permutations(n, 3, gen).Max(p => RelativeDeviation(pool.forward(x.index_select(1, p)), y));
                }), 1e-12);
    }

    /// <summary>Set sizes up to which every permutation is tried (5! = 120); larger sets get random permutations.</summary>
    public const int ExhaustiveUpTo = 5;

    /// <summary>
    /// max over permutations P of rel. deviation between f(Px) and P f(x), for a batch of random sets of size
    /// <paramref name="n"/> (input (4, n, C_in), float64 if the layer is float64): every permutation of S_n for
    /// n ≤ <see cref="ExhaustiveUpTo"/>, otherwise <paramref name="trials"/> random ones.
    /// </summary>
    public static double EquivarianceDeviation(nn.Module<Tensor, Tensor> layer, int n, int trials, int seed)
    {
        var first = layer.parameters().First();
        long channels = layer switch
        {
            PermutationEquivariantLinear l => l.InChannels,
            PermutationEquivariantQuadratic q => q.InChannels,
            _ => throw new ArgumentException("Unsupported layer; use the overload with a function."),
        };
        return EquivarianceDeviation(layer.forward, channels, first.dtype, n, trials, seed);
    }

    /// <summary>The same measure for any map f: (4, n, C) → (4, n, C_out) (e.g. a non-equivariant baseline).</summary>
    public static double EquivarianceDeviation(Func<Tensor, Tensor> f, long inChannels, ScalarType dtype, int n, int trials, int seed)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed);
        var x = randn(new long[] { 4, n, inChannels }, dtype: dtype, generator: gen);
        var y = f(x);
        double worst = 0;
        foreach (var p in Permutations(n, trials, gen))
            worst = Math.Max(worst, RelativeDeviation(f(x.index_select(1, p)), y.index_select(1, p)));
        return worst;
    }

    /// <summary>Index tensors of every permutation of n points for n ≤ <see cref="ExhaustiveUpTo"/>, else <paramref name="trials"/> random ones.</summary>
    public static IEnumerable<Tensor> Permutations(int n, int trials, Generator generator) => n <= ExhaustiveUpTo
        ? PermutationGroup.Symmetric(n).Elements().Select(e => tensor(e.Select(v => (long)v).ToArray()))
        : Enumerable.Range(0, trials).Select(_ => randperm(n, generator: generator));

    /// <summary>max|a − b| / max|b| in float64 (the float64 analogue of <see cref="Deviation.Relative"/>; NaN when b is all zeros).</summary>
    public static double RelativeDeviation(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        var a = actual.detach().to(ScalarType.Float64);
        var b = expected.detach().to(ScalarType.Float64);
        double scale = b.abs().max().item<double>();
        return scale > 0 ? (a - b).abs().max().item<double>() / scale : double.NaN;
    }

    /// <summary>max over generators and entries of |W[g(e)] − W[e]| / max|W|: zero iff W is constant on the pattern's orbits (NaN for W = 0).</summary>
    public static double OrbitViolation(Tensor dense, EquivariantPattern pattern)
    {
        if (!dense.shape.SequenceEqual(pattern.Symmetry.Shape))
            throw new ArgumentException($"Dense shape [{string.Join(", ", dense.shape)}] differs from the pattern's [{string.Join(", ", pattern.Symmetry.Shape)}].");
        var w = dense.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        double scale = w.Max(Math.Abs), worst = 0;
        if (!(scale > 0)) return double.NaN;
        foreach (var g in pattern.Symmetry.Generators)
            for (int e = 0; e < w.Length; e++)
                worst = Math.Max(worst, Math.Abs(w[g.Target[e]] - w[e]) / scale);
        return worst;
    }
}
