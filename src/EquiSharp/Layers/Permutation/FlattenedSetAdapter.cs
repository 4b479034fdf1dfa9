using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Permutation;

/// <summary>
/// The dense form of a set layer for one set size N: the set (…, N, C_in) is flattened to one vector (…, N·C_in)
/// (element-major, index k·C_in + c), a plain <see cref="Linear"/> or <see cref="Bilinear"/> (x fed to both inputs)
/// maps it to (…, N·C_out), and the result is unflattened to (…, N, C_out). Only the reshapes are added.
/// </summary>
public sealed class FlattenedSetAdapter : nn.Module<Tensor, Tensor>
{
    private readonly Linear? linear;
    private readonly Bilinear? bilinear;

    /// <summary>N: the only set size this module accepts.</summary>
    public long SetSize { get; }
    public long InChannels { get; }
    public long OutChannels { get; }

    /// <summary>Wraps a linear map of the flattened set, in_features N·C_in, out_features N·C_out.</summary>
    public FlattenedSetAdapter(Linear linear, long setSize, long inChannels, long outChannels) : this(setSize, inChannels, outChannels)
    {
        this.linear = linear;
        register_module("linear", linear);
    }

    /// <summary>Wraps a bilinear form of the flattened set with itself, in1 = in2 = N·C_in, out N·C_out.</summary>
    public FlattenedSetAdapter(Bilinear bilinear, long setSize, long inChannels, long outChannels) : this(setSize, inChannels, outChannels)
    {
        this.bilinear = bilinear;
        register_module("bilinear", bilinear);
    }

    private FlattenedSetAdapter(long setSize, long inChannels, long outChannels) : base(nameof(FlattenedSetAdapter))
    {
        SetSize = setSize; InChannels = inChannels; OutChannels = outChannels;
    }

    public override Tensor forward(Tensor input)
    {
        if (input.dim() < 2 || input.shape[^2] != SetSize || input.shape[^1] != InChannels)
            throw new ArgumentException($"{GetName()}: this dense form is for sets of exactly N = {SetSize}: expected input (…, {SetSize}, {InChannels}), got [{string.Join(", ", input.shape)}].");
        var flat = input.flatten(-2);
        var y = linear is not null ? linear.forward(flat) : bilinear!.forward(flat, flat);
        return y.reshape(input.shape[..^2].Append(SetSize).Append(OutChannels).ToArray());
    }

    public override string ToString() =>
        $"{GetName()}((…, {SetSize}, {InChannels}) → (…, {SetSize}, {OutChannels}) through {(linear is not null ? "Linear" : "Bilinear")})";
}
