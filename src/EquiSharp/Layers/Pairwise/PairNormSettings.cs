namespace EquiSharp.Layers.Pairwise;

/// <summary>Which entries of a pair map a <see cref="PairBatchNorm2d"/> takes its batch statistics over, in training.</summary>
public enum PairNormStatistics
{
    /// <summary>Every valid entry of each L_b×L_b block (the default; for a symmetric map the only sensible choice).</summary>
    WholeBlock,
    /// <summary>
    /// The block of the map mirrored from its upper triangle: entries i &lt; j weigh 2, the diagonal 1, the lower
    /// triangle 0. For a plain CNN trained on the upper triangle only, its lower triangle is never supervised, so
    /// statistics that include it can be moved by unsupervised values; these statistics are exactly those a symmetric
    /// network takes over its whole block (for a symmetric map both give the same mean and variance).
    /// </summary>
    MirroredUpper,
}

/// <summary>
/// How the masked batch norms of a pair network compute: ε, momentum (PyTorch's convention: the weight of the new
/// batch in the running average; Keras' momentum 0.99 is PyTorch's 0.01) and the entries the statistics cover.
/// </summary>
public sealed record PairNormSettings
{
    public double Eps { get; init; } = 1e-5;
    public double Momentum { get; init; } = 0.1;
    public PairNormStatistics Statistics { get; init; } = PairNormStatistics.WholeBlock;

    /// <summary>PyTorch's BatchNorm2d defaults (ε 1e-5, momentum 0.1), whole-block statistics.</summary>
    public static PairNormSettings Default { get; } = new();

    /// <summary>Keras' BatchNormalization defaults, which the SCNN authors' code used: ε 1e-3, momentum 0.99 (PyTorch 0.01).</summary>
    public static PairNormSettings Keras { get; } = new() { Eps = 1e-3, Momentum = 0.01 };

    /// <summary>A batch norm of <paramref name="channels"/> channels with these settings.</summary>
    public PairBatchNorm2d Create(long channels, TorchSharp.torch.Device? device) =>
        new(channels, Eps, Momentum, device) { Statistics = Statistics };
}
