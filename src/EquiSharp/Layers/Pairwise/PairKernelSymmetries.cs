using EquiSharp.Symmetry;

namespace EquiSharp.Layers.Pairwise;

/// <summary>
/// The weight symmetries of the SCNN paper (section III-A), defined on TorchSharp's conv weight layout
/// (out_channels, in_channels, kH, kW). Each is a couple of generators for the engine.
/// </summary>
public static class PairKernelSymmetries
{
    /// <summary>
    /// Symmetry-generating kernel, eq. (2): W[f,k,i,j] = W[f,k,j,i] (spatial transpose) and W[f,k,i,j] = W[f,n+k,i,j]
    /// (the two halves of the self-Cartesian input). Free parameters: F·n·C(C+1)/2.
    /// </summary>
    public static WeightSymmetry Generating(long outChannels, long inChannels, long kernelSize)
    {
        var shape = new[] { outChannels, inChannels, kernelSize, kernelSize };
        return new WeightSymmetry(shape,
            new[] { IndexAction.TransposeAxes(shape, 2, 3), IndexAction.SwapHalves(shape, 1) },
            "spatial transpose × swap channel halves (SCNN eq. 2)");
    }

    /// <summary>
    /// The widest kernel family for which Theorem 1 holds: W[f,k,i,j] = W[f,n+k,j,i] only (one generator: transpose
    /// composed with the half swap). Free parameters: F·n·C² — twice the paper's family for large C.
    /// </summary>
    public static WeightSymmetry GeneratingWide(long outChannels, long inChannels, long kernelSize)
    {
        var shape = new[] { outChannels, inChannels, kernelSize, kernelSize };
        var g = IndexAction.Compose(IndexAction.TransposeAxes(shape, 2, 3), IndexAction.SwapHalves(shape, 1));
        return new WeightSymmetry(shape, new[] { g }, "transpose∘swap-halves (Theorem 1, widest family)");
    }

    /// <summary>Symmetry-preserving kernel, eq. (4): Q[f,k,i,j] = Q[f,k,j,i]. Free parameters: F·m·C(C+1)/2.</summary>
    public static WeightSymmetry Preserving(long outChannels, long inChannels, long kernelSize)
    {
        var shape = new[] { outChannels, inChannels, kernelSize, kernelSize };
        return new WeightSymmetry(shape, new[] { IndexAction.TransposeAxes(shape, 2, 3) }, "spatial transpose (SCNN eq. 4)");
    }
}
