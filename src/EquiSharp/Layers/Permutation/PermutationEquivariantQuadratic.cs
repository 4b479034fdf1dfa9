using EquiSharp.Layers;
using EquiSharp.Symmetry;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Permutation;

/// <summary>
/// Permutation-equivariant quadratic layer y_k[o] = Σ_{i,j,c,d} A[k,o,i,c,j,d] x_i[c] x_j[d] for sets of any size N,
/// with A tied by the orbits of S_N on (k, i, j) — one coefficient matrix per orbit class and output channel, so the
/// same parameters serve every N. Input (…, N, C_in), output (…, N, C_out).
/// <para>Classes (N ≥ 3): k=i=j, k=i≠j, k=j≠i, i=j≠k, and k,i,j distinct. With <c>symmetric_pairs</c> (the default)
/// A[k,(i,c),(j,d)] is identified with A[k,(j,d),(i,c)], which merges k=i≠j with k=j≠i (4 classes): the two multiply
/// the same monomials, so without the identification only their sum is determined by the map and one of the two
/// parameters is unidentifiable. Each class tensor P has shape (C_out, C_in, C_in) and is symmetric in (c, d) for the
/// classes that the identification maps to themselves (k=i=j, i=j≠k, distinct).</para>
/// <para>No N³ tensor is formed. With s = Σ_j x_j, Q = Σ_j x_j ⊗ x_j, s' = s − x_k, Q' = Q − x_k ⊗ x_k:
/// <code>
/// Σ_{j≠k} x_j ⊗ x_j                = Q'
/// Σ_{j≠k} x_k ⊗ x_j                = x_k ⊗ s'
/// Σ_{i≠j, i≠k, j≠k} x_i ⊗ x_j      = s' ⊗ s' − Q'
/// y_k = ⟨P_kkk, x_k⊗x_k⟩ + ⟨P_kik, x_k⊗s'⟩ + ⟨P_kjk, s'⊗x_k⟩ + ⟨P_iik, Q'⟩ + ⟨P_dist, s'⊗s' − Q'⟩
/// </code>
/// (⟨P, F⟩[o] = Σ_cd P[o,c,d] F[c,d]); with the identification the two middle terms become 2⟨P_ki, x_k⊗s'⟩. The cost is
/// O(N·C_in²·C_out) per set.</para>
/// </summary>
public sealed class PermutationEquivariantQuadratic : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    private readonly TiedWeight[] classes;

    public long InChannels { get; }
    public long OutChannels { get; }
    /// <summary>True when A[k,i,j] and A[k,j,i] are identified (4 classes instead of 5).</summary>
    public bool SymmetricPairs { get; }
    /// <summary>Class names in parameter order.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The tied class tensors (C_out, C_in, C_in), in the order of <see cref="ClassNames"/>.</summary>
    public IReadOnlyList<TiedWeight> ClassWeights => classes;
    /// <summary>Number of trainable parameters, independent of N (equals the engine's orbit count for N ≥ 3).</summary>
    public long FreeParameterCount => classes.Sum(c => (long)c.FreeParameterCount);

    internal PermutationEquivariantQuadratic(long inChannels, long outChannels, bool symmetricPairs, Device? device, ScalarType? dtype)
        : base(nameof(PermutationEquivariantQuadratic))
    {
        if (inChannels <= 0) throw new ArgumentException($"{nameof(PermutationEquivariantQuadratic)}: in_channels must be positive, got {inChannels}.", "in_channels");
        if (outChannels <= 0) throw new ArgumentException($"{nameof(PermutationEquivariantQuadratic)}: out_channels must be positive, got {outChannels}.", "out_channels");
        InChannels = inChannels; OutChannels = outChannels; SymmetricPairs = symmetricPairs;
        var shape = new[] { outChannels, inChannels, inChannels };
        var full = new OrbitTying(new WeightSymmetry(shape, Array.Empty<IndexAction>(), "none"));
        var sym = new WeightSymmetry(shape, new[] { IndexAction.TransposeAxes(shape, 1, 2) }, "P[o,c,d] = P[o,d,c]");
        (string Name, WeightTying Tying)[] spec = symmetricPairs
            ? new (string, WeightTying)[] { ("k_eq_i_eq_j", new OrbitTying(sym)), ("k_eq_i_or_j", full), ("i_eq_j_ne_k", new OrbitTying(sym)), ("distinct", new OrbitTying(sym)) }
            : new (string, WeightTying)[] { ("k_eq_i_eq_j", full), ("k_eq_i_ne_j", full), ("k_eq_j_ne_i", full), ("i_eq_j_ne_k", full), ("distinct", full) };
        classes = spec.Select(s => new TiedWeight(s.Tying, device, dtype)).ToArray();
        ClassNames = spec.Select(s => s.Name).ToArray();
        for (int t = 0; t < classes.Length; t++) register_module(ClassNames[t], classes[t]);
        ResetParameters();
    }

    /// <summary>Every class coefficient ~ U(−b, b) with b = 1/(2·C_in) (the quadratic form then starts with O(1) coefficients per channel pair).</summary>
    public void ResetParameters(Generator? generator = null)
    {
        double variance = Math.Pow(1.0 / (2 * InChannels), 2) / 3;
        foreach (var c in classes) c.InitUniform(_ => variance, generator);
    }

    public override Tensor forward(Tensor input)
    {
        PermutationShapes.CheckSetInput(GetName(), input, InChannels);
        using var scope = NewDisposeScope();
        var x = input;
        var s = x.sum(-2, keepdim: true);                     // (…, 1, C)
        var sp = s - x;                                       // s' = Σ_{j≠k} x_j
        var xx = x.unsqueeze(-1) * x.unsqueeze(-2);           // x_k ⊗ x_k (…, N, C, C)
        var qp = xx.sum(-3, keepdim: true) - xx;              // Q' = Σ_{j≠k} x_j ⊗ x_j
        var distinct = sp.unsqueeze(-1) * sp.unsqueeze(-2) - qp;
        var kOther = x.unsqueeze(-1) * sp.unsqueeze(-2);      // x_k ⊗ s'
        Tensor[] features = SymmetricPairs
            ? new[] { xx, kOther.mul(KeptScalar.Of(2)), qp, distinct }
            : new[] { xx, kOther, sp.unsqueeze(-1) * x.unsqueeze(-2), qp, distinct };
        long c2 = InChannels * InChannels;
        var f = cat(features.Select(t => t.flatten(-2)).ToArray(), -1);                               // (…, N, K·C²)
        var p = cat(classes.Select(c => c.Materialize().reshape(OutChannels, c2)).ToArray(), 1);      // (C_out, K·C²)
        return f.matmul(p.t()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The explicit N³ coefficient tensor A for sets of size <paramref name="n"/>, shape (N, C_out, N, C_in, N, C_in),
    /// such that the layer computes y[k,o] = Σ A[k,o,i,c,j,d] x[i,c] x[j,d]. For testing and export; differentiable.
    /// </summary>
    public Tensor DenseTensor(long n)
    {
        if (n < 1) throw new ArgumentException($"Set size must be ≥ 1, got {n}.", nameof(n));
        var p = classes.Select(c => c.Materialize()).ToArray();
        var dev = p[0].device;
        var r = KeptScalar.Range(n, device: dev);
        var k = r.view(n, 1, 1); var i = r.view(1, n, 1); var j = r.view(1, 1, n);
        Tensor M(Tensor b) => b.to(p[0].dtype);
        var kkk = M(k.eq(i) & i.eq(j));
        var kiNotJ = M(k.eq(i) & i.ne(j));
        var kjNotI = M(k.eq(j) & i.ne(j));
        var ijNotK = M(i.eq(j) & k.ne(i));
        var dist = M(k.ne(i) & k.ne(j) & i.ne(j));
        Tensor Term(Tensor mask, Tensor coef) => einsum("kij,ocd->koicjd", mask, coef);
        if (SymmetricPairs)
            return Term(kkk, p[0]).add(Term(kiNotJ, p[1]), KeptScalar.One).add(Term(kjNotI, p[1].transpose(1, 2)), KeptScalar.One).add(Term(ijNotK, p[2]), KeptScalar.One).add(Term(dist, p[3]), KeptScalar.One);
        return Term(kkk, p[0]).add(Term(kiNotJ, p[1]), KeptScalar.One).add(Term(kjNotI, p[2]), KeptScalar.One).add(Term(ijNotK, p[3]), KeptScalar.One).add(Term(dist, p[4]), KeptScalar.One);
    }

    /// <summary>The layer's output computed from the explicit N³ tensor (reference implementation for tests; O(N³C²)).</summary>
    public Tensor ForwardDense(Tensor input)
    {
        PermutationShapes.CheckSetInput(GetName(), input, InChannels);
        var a = DenseTensor(input.shape[^2]);
        return einsum("koicjd,...ic,...jd->...ko", a, input, input);
    }

    /// <summary>
    /// An <c>nn.Bilinear</c> over the flattened set (in1 = in2 = N·C_in, out N·C_out, no bias) with weight
    /// <see cref="DenseTensor"/> and x fed to both inputs, behind a <see cref="FlattenedSetAdapter"/>: the same function
    /// for sets of size N only (N³·C_out·C_in² dense coefficients).
    /// </summary>
    /// <param name="size">N, required.</param>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null)
    {
        long n = size ?? throw SetPermutationMeasure.SizeRequired(GetName());
        var theta = classes[0].Theta;
        var bilinear = nn.Bilinear(n * InChannels, n * InChannels, n * OutChannels, hasBias: false, device: theta.device, dtype: theta.dtype);
        using (no_grad())
            bilinear.weight.copy_(DenseTensor(n).reshape(n * OutChannels, n * InChannels, n * InChannels));
        return new FlattenedSetAdapter(bilinear, n, InChannels, OutChannels);
    }

    /// <summary>N³·C_out·C_in²: the Bilinear of <see cref="ToDenseModule"/>.</summary>
    /// <param name="size">N, required.</param>
    public long DenseParameterCount(long? size = null)
    {
        long n = size ?? throw SetPermutationMeasure.SizeRequired(GetName());
        return n * OutChannels * n * InChannels * n * InChannels;
    }

    public string InputDescription => $"(…, N, {InChannels}): a set of any size N on axis −2, channels last";
    public string OutputDescription => $"(…, N, {OutChannels}), in the input's element order";
    public string SymmetryDescription => $"S_N: permuting the set's elements permutes the output's the same way (A constant on the S_N orbits of (k, i, j): {ClassNames.Count} classes)";

    /// <summary>Deviation of f(Px) from P f(x) for a random permutation P of a random set of <paramref name="size"/> elements.</summary>
    public double MeasureEquivariance(long size, Generator? generator = null) =>
        SetPermutationMeasure.Measure(forward, InChannels, size, classes[0].Theta, generator);

    public override string ToString() =>
        $"{GetName()}({InChannels} → {OutChannels}, classes: {string.Join(", ", ClassNames)}; free parameters {FreeParameterCount})";
}
