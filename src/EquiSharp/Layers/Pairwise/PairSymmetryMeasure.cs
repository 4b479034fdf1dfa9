using EquiSharp.Verification;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise;

/// <summary>
/// How far a pair-map module is from its symmetry claim on random inputs, max|Y − Yᵀ| / max|Y|: on self-Cartesian
/// products of sequences (the generating claim, SCNN Theorem 1) or on symmetric maps X = A + Aᵀ (the preserving
/// claim, eq. 4). Shared by every pairwise <see cref="Layers.IEquivariantModule.MeasureEquivariance"/>.
/// </summary>
internal static class PairSymmetryMeasure
{
    /// <summary>Asymmetry of <paramref name="sequenceToMap"/> on a batch of two random (L, n) sequences.</summary>
    public static double OnSequences(Func<Tensor, Tensor> sequenceToMap, long features, long size, ScalarType dtype, Device device, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var x = randn(new[] { 2, size, features }, dtype: dtype, device: device, generator: generator);
        using var _ = no_grad();
        return Deviation.Asymmetry(sequenceToMap(x));
    }

    /// <summary>Asymmetry of <paramref name="mapToMap"/> on a batch of two random symmetric (C, L, L) maps.</summary>
    public static double OnSymmetricMaps(Func<Tensor, Tensor> mapToMap, long channels, long size, ScalarType dtype, Device device, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var a = randn(new[] { 2, channels, size, size }, dtype: dtype, device: device, generator: generator);
        using var _ = no_grad();
        return Deviation.Asymmetry(mapToMap(a.add(a.transpose(2, 3), KeptScalar.One)));
    }
}
