using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Permutation;

/// <summary>
/// Permutation-invariant pooling over the set axis: (…, N, C) → (…, C) by sum, mean or max. Composed after
/// equivariant layers it gives an invariant output (the same for every ordering of the set).
/// </summary>
public sealed class InvariantPool : nn.Module<Tensor, Tensor>
{
    /// <summary>"sum", "mean" or "max".</summary>
    public string Reduction { get; }

    internal InvariantPool(string reduction) : base(nameof(InvariantPool))
    {
        if (reduction is not ("sum" or "mean" or "max"))
            throw new ArgumentException($"{nameof(InvariantPool)}: reduction must be 'sum', 'mean' or 'max', got '{reduction}'.", nameof(reduction));
        Reduction = reduction;
    }

    public override Tensor forward(Tensor input)
    {
        if (input.dim() < 2 || input.shape[^2] < 1)
            throw new ArgumentException($"{GetName()}: expected input (…, N, C) with N ≥ 1, got [{string.Join(", ", input.shape)}].");
        return Reduction switch
        {
            "sum" => input.sum(-2),
            "mean" => input.mean(new long[] { -2 }),
            _ => input.max(-2).values,
        };
    }

    public override string ToString() => $"{GetName()}({Reduction} over the set)";
}
