using TorchSharp;

namespace EquiSharp.Layers;

/// <summary>
/// The contract every equivariant module of EquiSharp keeps (after escnn's <c>EquivariantModule</c>): it says what
/// it maps from and to, which symmetry it guarantees, how many free parameters it trains, exports itself as one
/// plain TorchSharp module with the same function (<see cref="ToDenseModule"/>), and measures its own equivariance.
/// <para>"Size" is the spatial side L of a convolution's input or the set size N of a set layer. A convolution's
/// dense form does not depend on it (it is ignored); a set layer's dense weight grows with N, so it requires it.</para>
/// </summary>
public interface IEquivariantModule
{
    /// <summary>The input it expects, e.g. "(B, 2n, L, L) self-Cartesian product [x_i; x_j]".</summary>
    string InputDescription { get; }
    /// <summary>What it returns, e.g. "(B, F, L, L), symmetric in the last two axes".</summary>
    string OutputDescription { get; }
    /// <summary>The symmetry it guarantees, in words, with the paper's equation where there is one.</summary>
    string SymmetryDescription { get; }
    /// <summary>Trainable values (free parameters of tied weights plus untied ones).</summary>
    long FreeParameterCount { get; }
    /// <summary>Parameters of the plain module <see cref="ToDenseModule"/> returns for inputs of this size.</summary>
    /// <param name="size">Set size N for set layers (required there); ignored by convolution-like modules.</param>
    long DenseParameterCount(long? size = null);
    /// <summary>One plain TorchSharp module computing the same function from materialised weights (no tying).</summary>
    /// <param name="size">Set size N for set layers (required there); ignored by convolution-like modules.</param>
    torch.nn.Module<torch.Tensor, torch.Tensor> ToDenseModule(long? size = null);
    /// <summary>
    /// Draws a random input of the given size, applies the symmetry to input and output as the module's guarantee
    /// states, and returns max|a − b| / max|b| (0 for an exactly equivariant module in exact arithmetic). The module
    /// is left as it was (no running statistics change).
    /// </summary>
    double MeasureEquivariance(long size, torch.Generator? generator = null);
}
