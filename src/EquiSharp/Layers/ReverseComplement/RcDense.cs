using EquiSharp.Symmetry;
using EquiSharp.Verification;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers.ReverseComplement;

/// <summary>
/// Dense layer after an RC weighted sum (§3.1.4): an output puts the same weight on input channel i and its RC partner
/// n−1−i, w[j, n−1−i] = w[j, i] (<see cref="ReverseComplementTies.Dense"/>), so z(reverse channels of y) = z(y): forward
/// and RC representations converge here and any later layer needs no further sharing. Free parameters (§3.6.5):
/// outputs·n/2 weights + outputs biases. Initialisation: Glorot of the materialised (outputs, n) matrix per free
/// parameter (the ties are across inputs of one unit, multiplicity 2, so the variance is halved as for tied filters).
/// With <c>frozenOnes</c> the weights are the constant 1 and only the bias trains: the paper's single-output ChIP-seq
/// models (§3.4.2), where output weights would only rescale the weighted sum before them.
/// </summary>
public sealed class RcDense : nn.Module<Tensor, Tensor>, IEquivariantModule, IMaterializedWeightCache
{
    private readonly TiedWeight? weight;
    private readonly Parameter bias;

    /// <summary>RC-structured inputs n.</summary>
    public long InFeatures { get; }
    public long OutFeatures { get; }
    /// <summary>True when the weights are frozen to ones (§3.4.2).</summary>
    public bool FrozenOnes { get; }

    public RcDense(long inFeatures, long outFeatures, bool frozenOnes = false, Device? device = null, ScalarType? dtype = null) : base(nameof(RcDense))
    {
        ReverseComplementTies.RequireEvenChannels(nameof(RcDense), "in_features", inFeatures);
        if (outFeatures <= 0) throw new ArgumentException($"{nameof(RcDense)}: out_features must be positive, got {outFeatures}.", nameof(outFeatures));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        FrozenOnes = frozenOnes;
        if (!frozenOnes)
        {
            weight = new TiedWeight(new OrbitTying(ReverseComplementTies.Dense(outFeatures, inFeatures)), device, dtype);
            register_module("weight", weight);
        }
        bias = new Parameter(zeros(outFeatures, dtype: dtype ?? ScalarType.Float32, device: device));
        register_parameter("bias", bias);
        ResetParameters();
    }

    /// <summary>Glorot 2/(n + outputs) per materialised entry, divided by the multiplicity 2 of each free weight in a unit; bias zero.</summary>
    public void ResetParameters(Generator? generator = null)
    {
        double variance = 2.0 / (InFeatures + OutFeatures) / 2;
        weight?.InitUniform(_ => variance, generator);
        using (no_grad()) bias.zero_();
    }

    /// <summary>The materialised weights (outputs, n).</summary>
    public Tensor Weight() => weight?.Materialize() ?? ones(OutFeatures, InFeatures, dtype: bias.dtype, device: bias.device);
    public Parameter Bias => bias;

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 2 || x.shape[1] != InFeatures)
            throw new ArgumentException($"{nameof(RcDense)}: expected (B, {InFeatures}), got [{string.Join(", ", x.shape)}].");
        return nn.functional.linear(x, Weight(), bias);
    }

    public long FreeParameterCount => (weight?.FreeParameterCount ?? 0) + OutFeatures;
    public long DenseParameterCount(long? size = null) => InFeatures * OutFeatures + OutFeatures;

    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null)
    {
        var w = Weight();
        var linear = nn.Linear(InFeatures, OutFeatures, device: w.device, dtype: w.dtype);
        using (no_grad())
        {
            linear.weight!.copy_(w);
            linear.bias!.copy_(bias);
        }
        return linear;
    }

    public string InputDescription => $"(B, {InFeatures}): channel i is the RC partner of channel {InFeatures - 1}−i";
    public string OutputDescription => $"(B, {OutFeatures}), invariant under the reverse complement";
    public string SymmetryDescription => "dense(reverse channels of y) = dense(y) (§3.1.4)";

    /// <summary>Deviation of z(reversed y) from z(y) on a random input; the size argument is ignored.</summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var x = randn(new[] { 5, InFeatures }, dtype: bias.dtype, device: bias.device, generator: generator);
        using var _ = no_grad();
        return Deviation.Relative(forward(ReverseComplementTies.Apply(x)), forward(x));
    }

    public void InvalidateCache() => weight?.InvalidateCache();

    public override string ToString() => $"RcDense({InFeatures} → {OutFeatures}{(FrozenOnes ? ", weights frozen to 1" : "")}; free parameters {FreeParameterCount})";
}
