namespace EquiSharp.Applications.Recommendation.Models;

/// <summary>
/// Sizes of CosRec and SCosRec. The defaults are the reading of CosRec's code defaults that reproduces the SCNN paper's
/// Table I parameter counts (1,983,118 and 1,730,958 at 6,040 users, 3,416 items): d = 50, blocks of 128 and 256
/// channels, fc 256 → 150 with tanh, dropout 0.5, Markov order L = 5.
/// <para>Choices left open by the papers, the same for both models: the 3×3 convs use 'same' padding, so every map is
/// L×L (CosRec's code pads none, 5×5 → 3×3 → 1×1; the parameter counts are the same either way); conv kernels start
/// from the Glorot scale (half-Glorot per orbit for the tied ones) and the embeddings from CosRec's N(0, 1/dim); L2 is
/// CosRec's Adam weight decay 5e-6 (<c>RecommendationTrainingOptions.L2</c>), applied to the free parameters.</para>
/// </summary>
public sealed record CosRecConfig
{
    public required int Users { get; init; }
    public required int Items { get; init; }
    /// <summary>d: user and item embedding size; the pairwise input has 2d channels.</summary>
    public int EmbeddingDim { get; init; } = 50;
    /// <summary>L: previous items in the input, the side of the pair maps.</summary>
    public int MarkovOrder { get; init; } = 5;
    /// <summary>Output channels of every block (a 1×1 conv then a 3×3 conv, batch norm and ReLU after each).</summary>
    public IReadOnlyList<long> BlockChannels { get; init; } = new long[] { 128, 256 };
    /// <summary>Width of the fc layer after average pooling.</summary>
    public int FcDim { get; init; } = 150;
    public double Dropout { get; init; } = 0.5;

    /// <summary>The paper's ML-1M sizes (Table I).</summary>
    public static CosRecConfig MovieLens1M => new() { Users = 6040, Items = 3416 };
}
