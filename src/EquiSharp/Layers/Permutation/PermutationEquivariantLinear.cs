using EquiSharp.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Permutation;

/// <summary>
/// Permutation-equivariant linear layer for sets of any size N (DeepSets form): for input x of shape (…, N, C_in),
/// y_k = Λ x_k + Γ·agg_j x_j + b with agg = Σ (default) or mean, Λ, Γ of shape (C_out, C_in). For a fixed N this is
/// exactly the engine's orbit pattern of S_N on (out, in) pairs — two classes per channel pair, W[k,i] = Λ δ_ki + Γ,
/// i.e. W = Λ ⊗ I + Γ ⊗ 11ᵀ (the notes' αI + β11ᵀ for one channel). Permuting the N inputs permutes the N outputs.
/// </summary>
public sealed class PermutationEquivariantLinear : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    private readonly Parameter lambda;
    private readonly Parameter gamma;
    private readonly Parameter? bias;

    public long InChannels { get; }
    public long OutChannels { get; }
    /// <summary>True when the set term uses the mean over the set instead of the sum.</summary>
    public bool Mean { get; }
    /// <summary>Λ: the per-element (diagonal) weight, (C_out, C_in).</summary>
    public Parameter Lambda => lambda;
    /// <summary>Γ: the set-pooled weight, (C_out, C_in).</summary>
    public Parameter Gamma => gamma;
    /// <summary>The bias (C_out), if any.</summary>
    public Parameter? Bias => bias;
    /// <summary>2·C_out·C_in (+ C_out with bias), independent of N.</summary>
    public long FreeParameterCount => 2 * OutChannels * InChannels + (bias is null ? 0 : OutChannels);

    internal PermutationEquivariantLinear(long inChannels, long outChannels, bool hasBias, bool mean, Device? device, ScalarType? dtype)
        : base(nameof(PermutationEquivariantLinear))
    {
        if (inChannels <= 0) throw new ArgumentException($"{nameof(PermutationEquivariantLinear)}: in_channels must be positive, got {inChannels}.", "in_channels");
        if (outChannels <= 0) throw new ArgumentException($"{nameof(PermutationEquivariantLinear)}: out_channels must be positive, got {outChannels}.", "out_channels");
        InChannels = inChannels; OutChannels = outChannels; Mean = mean;
        var dt = dtype ?? ScalarType.Float32;
        lambda = new Parameter(zeros(outChannels, inChannels, dtype: dt, device: device));
        gamma = new Parameter(zeros(outChannels, inChannels, dtype: dt, device: device));
        register_parameter("lambda", lambda);
        register_parameter("gamma", gamma);
        if (hasBias)
        {
            bias = new Parameter(zeros(outChannels, dtype: dt, device: device));
            register_parameter("bias", bias);
        }
        ResetParameters();
    }

    /// <summary>Λ, Γ ~ U(−1/√C_in, 1/√C_in) (nn.Linear's bound), Γ additionally divided by 4 so the set term starts small; bias 0.</summary>
    public void ResetParameters(Generator? generator = null)
    {
        using var _ = no_grad();
        double bound = 1.0 / Math.Sqrt(InChannels);
        lambda.copy_(rand(lambda.shape, dtype: lambda.dtype, device: lambda.device, generator: generator).mul(KeptScalar.Of(2)).sub(KeptScalar.Of(1)).mul(KeptScalar.Of(bound)));
        gamma.copy_(rand(gamma.shape, dtype: gamma.dtype, device: gamma.device, generator: generator).mul(KeptScalar.Of(2)).sub(KeptScalar.Of(1)).mul(KeptScalar.Of(bound / 4)));
        bias?.zero_();
    }

    public override Tensor forward(Tensor input)
    {
        PermutationShapes.CheckSetInput(GetName(), input, InChannels);
        var pooled = Mean ? input.mean(new long[] { -2 }, keepdim: true) : input.sum(-2, keepdim: true);
        var y = input.matmul(lambda.t()).add(pooled.matmul(gamma.t()), KeptScalar.One);
        return bias is null ? y : y.add(bias, KeptScalar.One);
    }

    /// <summary>
    /// The dense weight for sets of size <paramref name="n"/>, shape (N, C_out, N, C_in): y[k,o] = Σ_ic W[k,o,i,c] x[i,c] + b[o].
    /// Differentiable with respect to Λ and Γ.
    /// </summary>
    public Tensor DenseWeight(long n)
    {
        if (n < 1) throw new ArgumentException($"Set size must be ≥ 1, got {n}.", nameof(n));
        var eye = torch.eye(n, dtype: lambda.dtype, device: lambda.device);
        var ones = torch.ones(n, n, dtype: lambda.dtype, device: lambda.device);
        var g = Mean ? gamma.div(KeptScalar.Of(n)) : (Tensor)gamma;
        return einsum("ki,oc->koic", eye, lambda).add(einsum("ki,oc->koic", ones, g), KeptScalar.One);
    }

    /// <summary>
    /// An <c>nn.Linear</c> over the flattened set (N·C_in → N·C_out) with weight <see cref="DenseWeight"/> and the bias
    /// repeated per element, behind a <see cref="FlattenedSetAdapter"/>: the same function for sets of size N only.
    /// </summary>
    /// <param name="size">N, required.</param>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null)
    {
        long n = size ?? throw SetPermutationMeasure.SizeRequired(GetName());
        var linear = nn.Linear(n * InChannels, n * OutChannels, hasBias: bias is not null, device: lambda.device, dtype: lambda.dtype);
        using (no_grad())
        {
            linear.weight.copy_(DenseWeight(n).reshape(n * OutChannels, n * InChannels));
            if (bias is not null) linear.bias!.copy_(bias.repeat(n));   // entry k·C_out + o is b[o]
        }
        return new FlattenedSetAdapter(linear, n, InChannels, OutChannels);
    }

    /// <summary>(N·C_out)·(N·C_in) (+ N·C_out with bias): the Linear of <see cref="ToDenseModule"/>.</summary>
    /// <param name="size">N, required.</param>
    public long DenseParameterCount(long? size = null)
    {
        long n = size ?? throw SetPermutationMeasure.SizeRequired(GetName());
        return n * OutChannels * n * InChannels + (bias is null ? 0 : n * OutChannels);
    }

    public string InputDescription => $"(…, N, {InChannels}): a set of any size N on axis −2, channels last";
    public string OutputDescription => $"(…, N, {OutChannels}), in the input's element order";
    public string SymmetryDescription => "S_N: permuting the set's elements permutes the output's the same way (W = Λ ⊗ I + Γ ⊗ 11ᵀ)";

    /// <summary>Deviation of f(Px) from P f(x) for a random permutation P of a random set of <paramref name="size"/> elements.</summary>
    public double MeasureEquivariance(long size, Generator? generator = null) =>
        SetPermutationMeasure.Measure(forward, InChannels, size, lambda, generator);

    public override string ToString() =>
        $"{GetName()}({InChannels} → {OutChannels}, {(Mean ? "mean" : "sum")} over the set; free parameters {FreeParameterCount})";
}

/// <summary>Input checks shared by the set layers.</summary>
internal static class PermutationShapes
{
    public static void CheckSetInput(string layer, Tensor input, long channels)
    {
        if (input.dim() < 2 || input.shape[^1] != channels)
            throw new ArgumentException($"{layer}: expected input (…, N, {channels}) with the set on axis −2 and channels last, got [{string.Join(", ", input.shape)}].");
        if (input.shape[^2] < 1)
            throw new ArgumentException($"{layer}: the set is empty (N = 0).");
    }
}
