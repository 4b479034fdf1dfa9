using EquiSharp.Symmetry;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.ReverseComplement;

/// <summary>
/// Reverse-complement weighted sum (§3.1.3, eq. 1): y[b, c] = Σ_i w[c, i] x[b, c, i] over a fixed input length l, a
/// positional weighting learnt per channel. With RC weight sharing w[n−1−c, l−1−i] = w[c, i] (the paper's
/// w_{ic} = w_{(l−i)(n−1−c)}, 1-based position; <see cref="ReverseComplementTies.WeightedSum"/>), so
/// y(rc(x))[c] = Σ_i w[c,i] x[n−1−c, l−1−i] = y(x)[n−1−c]: the output channels are reversed, which the RC dense
/// layer after it ignores. No bias, no nonlinearity (as in the paper's experiments). Free parameters (§3.6.4): l·n/2.
/// <para>Initialisation (§3.7, the authors' "fanintimesfanouttwice"): Keras sees the free weights as an l × n/2
/// matrix (fan_in = l, fan_out = n/2) and draws U(−s, s) with s = √(6 / (2 · fan_in · fan_out)) = √(6 / (n·l)) — the
/// Glorot bound of a dense layer on the n·l pooled inputs with few outputs, which default Glorot on this layer (s =
/// √(6/(l + n/2))) far exceeds. Variance s²/3 = 2/(n·l).</para>
/// </summary>
public sealed class RcWeightedSum : nn.Module<Tensor, Tensor>, IEquivariantModule, IMaterializedWeightCache
{
    private readonly TiedWeight weight;

    /// <summary>RC-structured input channels n.</summary>
    public long Channels { get; }
    /// <summary>The fixed input length l.</summary>
    public long Length { get; }
    public TiedWeight TiedWeights => weight;

    public RcWeightedSum(long channels, long length, Device? device = null, ScalarType? dtype = null) : base(nameof(RcWeightedSum))
    {
        ReverseComplementTies.RequireEvenChannels(nameof(RcWeightedSum), "channels", channels);
        if (length <= 0) throw new ArgumentException($"{nameof(RcWeightedSum)}: the input length must be positive (the weighted sum needs a fixed length), got {length}.", nameof(length));
        Channels = channels;
        Length = length;
        weight = new TiedWeight(new OrbitTying(ReverseComplementTies.WeightedSum(channels, length)), device, dtype);
        register_module("weight", weight);
        ResetParameters();
    }

    /// <summary>§3.7: U(−s, s), s = √(6 / (2·fan_in·fan_out)) with fan_in = l, fan_out = n/2, i.e. variance 2/(n·l).</summary>
    public void ResetParameters(Generator? generator = null)
    {
        double fanIn = Length, fanOut = Channels / 2.0;
        double s = Math.Sqrt(6.0 / (2 * fanIn * fanOut));
        weight.InitUniform(_ => s * s / 3, generator);
    }

    /// <summary>The materialised weights (n, l).</summary>
    public Tensor Weight() => weight.Materialize();

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 3 || x.shape[1] != Channels || x.shape[2] != Length)
            throw new ArgumentException($"{nameof(RcWeightedSum)}: expected (B, {Channels}, {Length}), got [{string.Join(", ", x.shape)}] (the weighted sum has one weight per position, so the length is fixed).");
        return x.mul(weight.Materialize().unsqueeze(0)).sum(2);
    }

    public long FreeParameterCount => weight.FreeParameterCount;
    public long DenseParameterCount(long? size = null) => Channels * Length;

    /// <summary>A depthwise Conv1d (groups = n, kernel l, no bias) with the materialised weights, output squeezed: the same function.</summary>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null)
    {
        var w = weight.Materialize();
        var conv = nn.Conv1d(Channels, Channels, Length, groups: Channels, bias: false, device: w.device, dtype: w.dtype);
        using (no_grad()) conv.weight!.copy_(w.unsqueeze(1));
        return nn.Sequential(conv, nn.Flatten());
    }

    public string InputDescription => $"(B, {Channels}, {Length}), RC-structured";
    public string OutputDescription => $"(B, {Channels}): channel c is the RC partner of channel {Channels - 1}−c";
    public string SymmetryDescription => "ws(rc(x)) = reverse channels of ws(x) (§3.1.3)";

    /// <summary>Deviation of ws(rc(x)) from the channel-reversed ws(x); the size argument is ignored (the length is fixed).</summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var w = weight.Materialize();
        var x = randn(new[] { 3, Channels, Length }, dtype: w.dtype, device: w.device, generator: generator);
        using var _ = no_grad();
        return Deviation.Relative(forward(ReverseComplementTies.Apply(x)), ReverseComplementTies.Apply(forward(x)));
    }

    public void InvalidateCache() => weight.InvalidateCache();

    public override string ToString() => $"RcWeightedSum({Channels} channels × length {Length}; free parameters {FreeParameterCount})";
}
