using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Permutation;

/// <summary>
/// Factory functions in TorchSharp's style (PyTorch parameter names) for layers on sets: inputs are (…, N, C) with the
/// set on axis −2 and channels last; N may differ between calls.
/// </summary>
public static class PermutationLayers
{
    /// <summary>Permutation-equivariant linear layer y_k = Λx_k + Γ·agg_j x_j + b (DeepSets form).</summary>
    /// <param name="in_channels">Channels per set element on input.</param>
    /// <param name="out_channels">Channels per set element on output.</param>
    /// <param name="bias">Add a per-channel bias b (shared by all elements).</param>
    /// <param name="aggregation">"sum" (default) or "mean": how the set term pools the elements.</param>
    /// <param name="device">Device for parameters.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public static PermutationEquivariantLinear PermutationEquivariantLinear(long in_channels, long out_channels, bool bias = true,
        string aggregation = "sum", Device? device = null, ScalarType? dtype = null)
    {
        if (aggregation is not ("sum" or "mean"))
            throw new ArgumentException($"aggregation must be 'sum' or 'mean', got '{aggregation}'.", nameof(aggregation));
        return new(in_channels, out_channels, bias, aggregation == "mean", device, dtype);
    }

    /// <summary>Permutation-equivariant quadratic layer y_k = Σ_ij A^k_ij x_i x_j with A tied by the S_N orbit classes.</summary>
    /// <param name="in_channels">Channels per set element on input.</param>
    /// <param name="out_channels">Channels per set element on output.</param>
    /// <param name="symmetric_pairs">Identify A^k_ij with A^k_ji (4 classes, all identifiable; default) instead of 5 classes.</param>
    /// <param name="device">Device for parameters.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public static PermutationEquivariantQuadratic PermutationEquivariantQuadratic(long in_channels, long out_channels, bool symmetric_pairs = true,
        Device? device = null, ScalarType? dtype = null)
        => new(in_channels, out_channels, symmetric_pairs, device, dtype);

    /// <summary>Permutation-invariant pooling over the set axis.</summary>
    /// <param name="reduction">"sum" (default), "mean" or "max".</param>
    public static InvariantPool InvariantPool(string reduction = "sum") => new(reduction);
}
