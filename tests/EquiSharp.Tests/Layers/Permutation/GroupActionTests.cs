using EquiSharp.Layers.Permutation;
using EquiSharp.Symmetry;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Layers.Permutation;

public class GroupActionTests
{
    [Theory]
    [InlineData(1, 1)] [InlineData(2, 2)] [InlineData(3, 6)] [InlineData(4, 24)] [InlineData(5, 120)] [InlineData(6, 720)]
    public void SymmetricGroupClosureHasNFactorialElements(int n, int order)
    {
        var g = PermutationGroup.Symmetric(n);
        Assert.Equal(order, g.Elements().Count());
        Assert.Equal(order, g.Order());
    }

    [Theory]
    [InlineData(2, 2)] [InlineData(4, 8)] [InlineData(6, 48)] [InlineData(8, 384)]
    public void PairingStabilizerHasOrderTwoToTheHalfTimesHalfFactorial(int n, int order)
    {
        var g = PermutationGroup.PairingStabilizer(n);
        Assert.Equal(order, g.Order());
        Assert.Equal(order, g.Elements().Count());   // the formula agrees with the closure
        int h = n / 2;
        foreach (var e in g.Elements())
            for (int i = 0; i < h; i++)
                Assert.Equal((e[i] + h) % n, e[i + h]);  // every element preserves the pairing {i, i+h}
    }

    [Fact]
    public void FoldedOutputUnderFullSymmetricGroupIsRefusedNamingGeneratorAndSubgroup()
    {
        var g = PermutationGroup.Symmetric(6);
        var e = Assert.Throws<IncompatibleActionException>(() => GroupAction.Folded(g));
        Assert.Equal("(0 1)", e.BreakingGenerator);
        Assert.Contains("(0 1)", e.Message);
        Assert.Contains("pairs:6", e.Message);
        Assert.NotNull(e.LargestValidSubgroup);
        Assert.Equal(48, e.LargestValidSubgroup!.Order());
        // and the offered subgroup is one for which the fold is well defined
        var fold = GroupAction.Folded(e.LargestValidSubgroup);
        Assert.Equal(3, fold.Size);
    }

    [Fact]
    public void GroupSpecsParseAndBadSpecsAreRejected()
    {
        Assert.Equal(120, PermutationGroup.Parse("sym:5").Order());
        Assert.Equal(7, PermutationGroup.Parse("cyc:7").Elements().Count());
        Assert.Equal(8, PermutationGroup.Parse("pairs:4").Order());
        Assert.Contains("expected sym:N", Assert.Throws<ArgumentException>(() => PermutationGroup.Parse("sym5")).Message);
        Assert.Throws<ArgumentException>(() => PermutationGroup.Parse("alt:4"));
        Assert.Throws<ArgumentException>(() => PermutationGroup.Parse("pairs:5"));
        Assert.Throws<ArgumentException>(() => new PermutationGroup(3, new[] { new[] { 0, 0, 1 } }, "bad"));
        Assert.Equal("(0 1)(2 3 4)", PermutationGroup.CycleNotation(new[] { 1, 0, 3, 4, 2 }));
    }

    [Fact]
    public void PatternsNeedActionsOfTheSameGroupObject()
    {
        var a = GroupAction.Natural(PermutationGroup.Symmetric(3));
        var b = GroupAction.Natural(PermutationGroup.Symmetric(3));
        Assert.Throws<ArgumentException>(() => EquivariantPattern.Linear(a, b));
    }

    [Fact]
    public void FoldIsWellDefinedForN2WhereEveryPermutationPreservesThePairing()
    {
        var fold = GroupAction.Folded(PermutationGroup.Symmetric(2));
        Assert.Equal(1, fold.Size);
    }

    [Fact]
    public void InducedActionUnderCyclicGroupIsRefusedWithoutASubgroup()
    {
        // cyc:4 with the map {0,1}->0, {2,3}->1: the rotation sends 0,1 to 1,2 which map to 0 and 1
        var check = GroupAction.CheckInduced(PermutationGroup.Cyclic(4), new[] { 0, 0, 1, 1 });
        Assert.False(check.IsValid);
        Assert.Equal("(0 1 2 3)", check.BreakingGenerator);
        Assert.Null(check.LargestValidSubgroup);
        // the map {0,2}->0, {1,3}->1 is a block system of the rotation: valid
        Assert.True(GroupAction.CheckInduced(PermutationGroup.Cyclic(4), new[] { 0, 1, 0, 1 }).IsValid);
    }

    [Theory]
    [InlineData(3)] [InlineData(4)] [InlineData(5)]
    public void SignRepresentationIsAcceptedAndAWrongImageIsRefused(int n)
    {
        var g = PermutationGroup.Symmetric(n);
        var swap = new[] { 1, 0 };
        var id = new[] { 0, 1 };
        // sign: transposition -> swap, n-cycle -> swap iff n is even
        var sign = GroupAction.FromGeneratorImages(g, 2, new[] { swap, n % 2 == 0 ? swap : id }, "sign");
        Assert.Equal(2, sign.Size);
        // the opposite choice for the n-cycle is not a homomorphism
        var check = GroupAction.CheckGeneratorImages(g, 2, new[] { swap, n % 2 == 0 ? id : swap }, "bad");
        Assert.False(check.IsValid);
        Assert.NotNull(check.BreakingGenerator);
        Assert.Contains(check.BreakingGenerator!, check.Message);
        Assert.Throws<IncompatibleActionException>(() => GroupAction.FromGeneratorImages(g, 2, new[] { swap, n % 2 == 0 ? id : swap }));
    }

    [Theory]
    [InlineData(1, 1, 1, 1)] [InlineData(2, 2, 4, 3)] [InlineData(3, 2, 5, 4)] [InlineData(4, 2, 5, 4)]
    [InlineData(5, 2, 5, 4)] [InlineData(6, 2, 5, 4)] [InlineData(7, 2, 5, 4)] [InlineData(8, 2, 5, 4)]
    public void OrbitCountsOfSymNAreBoundedByBellNumbers(int n, int linear, int quadratic, int quadraticSymmetric)
    {
        var g = PermutationGroup.Symmetric(n);
        var a = GroupAction.Natural(g);
        Assert.Equal(linear, EquivariantPattern.Linear(a, a).FreeParameterCount);
        Assert.Equal(quadratic, EquivariantPattern.Quadratic(a, a).FreeParameterCount);
        Assert.Equal(quadraticSymmetric, EquivariantPattern.Quadratic(a, a, symmetricPairs: true).FreeParameterCount);
    }

    /// <summary>A weight constant on the orbits commutes with the group: ρ_out(g)·W = W·ρ_in(g) for every element g (not just generators).</summary>
    [Theory]
    [InlineData("sym:4", "natural")] [InlineData("pairs:6", "fold")] [InlineData("cyc:5", "natural")] [InlineData("sym:3", "trivial")]
    public void RandomOrbitConstantLinearWeightIsEquivariantForEveryGroupElement(string spec, string outputName)
    {
        var g = PermutationGroup.Parse(spec);
        var input = GroupAction.Natural(g);
        var output = outputName switch { "fold" => GroupAction.Folded(g), "trivial" => GroupAction.Trivial(g), _ => GroupAction.Natural(g) };
        var pattern = EquivariantPattern.Linear(input, output);
        var rng = new Random(7);
        var theta = Enumerable.Range(0, pattern.FreeParameterCount).Select(_ => rng.NextDouble()).ToArray();
        int m = output.Size, n = input.Size;
        double W(int k, int i) => theta[pattern.Partition.OrbitOf[k * n + i]];
        // enumerate (input element, output element) pairs by closure over generator pairs
        var frontier = new List<(int[] In, int[] Out)> { (PermutationGroup.Identity(n), PermutationGroup.Identity(m)) };
        var seen = new HashSet<string> { string.Join(",", frontier[0].In) };
        for (int f = 0; f < frontier.Count; f++)
            for (int t = 0; t < g.Generators.Count; t++)
            {
                var next = (PermutationGroup.Then(frontier[f].In, g.Generators[t]), PermutationGroup.Then(frontier[f].Out, output.GeneratorImages[t]));
                if (seen.Add(string.Join(",", next.Item1))) frontier.Add(next);
            }
        Assert.Equal(g.Order(), frontier.Count);
        foreach (var (pin, pout) in frontier)
            for (int k = 0; k < m; k++)
                for (int i = 0; i < n; i++)
                    Assert.Equal(W(k, i), W(pout[k], pin[i]));
    }

    /// <summary>The notes' folded pattern, eq. (14) (6 inputs, 3 outputs, 5 colours), is not equivariant under the pairing group; the engine's 2-class pattern is.</summary>
    [Fact]
    public void NotesFoldedPatternIsNotEquivariantButTheEnginePatternIs()
    {
        int[,] colours = { { 5, 1, 1, 2, 3, 4 }, { 1, 5, 1, 2, 3, 4 }, { 1, 1, 5, 2, 3, 4 } };
        var values = new double[] { 0, 0.3, -1.1, 0.7, 2.0, 1.3 };
        var notes = tensor(Enumerable.Range(0, 18).Select(e => values[colours[e / 6, e % 6]]).ToArray(), new long[] { 3, 1, 6, 1 }, dtype: ScalarType.Float64);
        var g = PermutationGroup.PairingStabilizer(6);
        var pattern = EquivariantPattern.Linear(GroupAction.Natural(g), GroupAction.Folded(g));
        Assert.Equal(2, pattern.FreeParameterCount);
        Assert.True(PermutationChecks.OrbitViolation(notes, pattern) > 0.1);

        // engine pattern, applied to a permuted input: folded outputs permute accordingly
        var w = tensor(pattern.Partition.OrbitOf.Select(o => o == 0 ? 1.7 : -0.4).ToArray(), new long[] { 3, 6 }, dtype: ScalarType.Float64);
        var x = randn(new long[] { 6 }, dtype: ScalarType.Float64);
        foreach (var e in g.Elements())
        {
            // (Px)_i = x_{p^-1(i)} with p = e; equivariance: W(Px) = P_fold(Wx)
            var inv = new long[6];
            for (int i = 0; i < 6; i++) inv[e[i]] = i;
            var px = x.index_select(0, tensor(inv));
            var foldInv = Enumerable.Range(0, 3).Select(k => (long)(inv[k] % 3)).ToArray();
            var expected = w.matmul(x).index_select(0, tensor(foldInv));
            Assert.True(PermutationChecks.RelativeDeviation(w.matmul(px), expected) < 1e-12);
        }
    }

    /// <summary>
    /// The notes' hand counts (eq. 10: 6, 9, 11, 13, 15 colours for N = 2…6) are the equality classes of their
    /// eq. (9) (the additive equation left out): a refinement of the true orbits that misses the conditions on y_m,
    /// m ∉ {h, k}, under the swap of h and k, so k=i≠j and k=j≠i split into one class per j.
    /// </summary>
    [Theory]
    [InlineData(2, 6)] [InlineData(3, 9)] [InlineData(4, 11)] [InlineData(5, 13)] [InlineData(6, 15)]
    public void NotesEquationsReproduceTheHandCountsAndRefineTheOrbits(int n, int handCount)
    {
        var parent = Enumerable.Range(0, n * n * n).ToArray();
        int Find(int a) { while (parent[a] != a) a = parent[a] = parent[parent[a]]; return a; }
        int F(int k, int i, int j) => (k * n + i) * n + j;
        void U(int a, int b) => parent[Find(a)] = Find(b);
        for (int h = 0; h < n; h++)
            for (int k = 0; k < n; k++)
            {
                if (h == k) continue;
                var others = Enumerable.Range(0, n).Where(x => x != h && x != k).ToArray();
                foreach (int i in others) foreach (int j in others) U(F(h, i, j), F(k, i, j));
                foreach (int j in others)
                {
                    U(F(h, k, j), F(k, h, j)); U(F(h, h, j), F(k, k, j));
                    U(F(h, j, k), F(k, j, h)); U(F(h, j, h), F(k, j, k));
                }
                U(F(h, k, k), F(k, h, h));
                U(F(h, h, h), F(k, k, k));
            }
        var notesClass = Enumerable.Range(0, n * n * n).Select(Find).ToArray();
        Assert.Equal(handCount, notesClass.Distinct().Count());

        var a = GroupAction.Natural(PermutationGroup.Symmetric(n));
        var orbitOf = EquivariantPattern.Quadratic(a, a).Partition.OrbitOf;
        // every notes class lies inside one orbit (the notes' equalities are true, just incomplete)
        foreach (var cls in Enumerable.Range(0, n * n * n).GroupBy(e => notesClass[e]))
            Assert.Single(cls.Select(e => orbitOf[e]).Distinct());
        Assert.True(orbitOf.Distinct().Count() < handCount);
    }
}
