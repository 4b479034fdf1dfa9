using static TorchSharp.torch;

namespace EquiSharp.Layers.Permutation;

/// <summary>
/// How far a set layer is from permutation equivariance f(Px) = P f(x) for one random permutation P of N elements:
/// max|f(Px) − P f(x)| / max|P f(x)| on a batch of four random sets (float64 comparison).
/// </summary>
internal static class SetPermutationMeasure
{
    /// <summary>Shared by the set layers' <see cref="Layers.IEquivariantModule.MeasureEquivariance"/>.</summary>
    public static double Measure(Func<Tensor, Tensor> layer, long inChannels, long setSize, Tensor anyParameter, Generator? generator)
    {
        if (setSize < 1) throw new ArgumentException($"Set size must be ≥ 1, got {setSize}.", nameof(setSize));
        using var scope = NewDisposeScope();
        var x = randn(new[] { 4, setSize, inChannels }, dtype: anyParameter.dtype, device: anyParameter.device, generator: generator);
        var p = randperm(setSize, generator: generator).to(anyParameter.device);
        using var _ = no_grad();
        return PermutationChecks.RelativeDeviation(layer(x.index_select(1, p)), layer(x).index_select(1, p));
    }

    /// <summary>The error a set layer's dense export throws when no set size was given.</summary>
    public static ArgumentException SizeRequired(string layer) =>
        new($"{layer}: the dense form depends on the set size N (its weight has N·C entries per side); call ToDenseModule(size: N).", "size");
}
