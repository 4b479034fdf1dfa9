namespace EquiSharp.Layers.Pairwise.Network;

/// <summary>One branch of a multi-kernel stage: a kernel size and its output channels.</summary>
public readonly record struct PairBranch(long Kernel, long Channels);

/// <summary>
/// The architecture of a <see cref="PairNetwork"/> (SCNN paper Figs. 4–6): per-position input features → BiLSTM →
/// dense → concatenated with the input → self-Cartesian product → generating 1×1 conv (SCNN) or plain conv (CNN) →
/// [extra pair features concatenated] → multi-kernel stages → concatenated with a re-injected 1×1 encoding of the
/// input features [and the pair features again] → final conv to <see cref="OutChannels"/> → logits.
/// RNA: 5 one-hot input features, no pair features. Protein contacts: ~45 1-D features and 3 pair features.
/// </summary>
public sealed record PairNetworkSpec
{
    /// <summary>Per-position input features n (the input is (B, L, n)).</summary>
    public long InputFeatures { get; init; }
    /// <summary>Channels of extra 2-D input features (B, P, L, L), symmetric; 0 = none.</summary>
    public long PairFeatures { get; init; }
    /// <summary>Units of the BiLSTM in each direction (0 = no LSTM: the input goes straight to the pair encoder).</summary>
    public int LstmUnits { get; init; } = 75;
    /// <summary>Per-position dense layer after the LSTM.</summary>
    public int DenseFeatures { get; init; } = 15;
    /// <summary>Channels of the generating 1×1 conv on the self-Cartesian product.</summary>
    public long EncoderChannels { get; init; } = 40;
    /// <summary>Multi-kernel stages: per stage, its branches.</summary>
    public PairBranch[][] Stages { get; init; } = Array.Empty<PairBranch[]>();
    /// <summary>Channels of the re-injected branch (generating 1×1 conv of the input's self-Cartesian product).</summary>
    public long SkipChannels { get; init; } = 20;
    /// <summary>Kernel of the final convolution.</summary>
    public long FinalKernel { get; init; } = 3;
    /// <summary>Output channels (1 for a pair-probability map).</summary>
    public long OutChannels { get; init; } = 1;
    /// <summary>Activation of the hidden maps.</summary>
    public PairActivation Activation { get; init; } = PairActivation.ReLU;
    /// <summary>Symmetric (SCNN: generating and preserving kernels) or plain convolutions (the CNN baseline).</summary>
    public bool Symmetric { get; init; } = true;
    /// <summary>Rule for every convolution kernel; null = the layers' own (half-Glorot for tied kernels, Glorot-uniform for plain ones).</summary>
    public KernelInitialisation? Initialisation { get; init; }
    /// <summary>ε, momentum and statistics of every masked batch norm.</summary>
    public PairNormSettings Norm { get; init; } = PairNormSettings.Default;

    /// <summary>
    /// The multi-kernel stages of the published RNA model (SCNN paper Fig. 4 as refined by the authors' code): kernels
    /// 13/9/5 with 20/20/10 channels, then 9/5 with 20/20, then 5 with 20. Protein contacts use the same widths, since
    /// Figs. 5–6 give the layer order but not every width.
    /// </summary>
    public static PairBranch[][] PaperStages =>
    [
        [new(13, 20), new(9, 20), new(5, 10)],
        [new(9, 20), new(5, 20)],
        [new(5, 20)],
    ];

    /// <summary>Features per position that enter the self-Cartesian product: the dense LSTM projection plus the input.</summary>
    public long EncodedFeatures => InputFeatures + (LstmUnits > 0 ? DenseFeatures : 0);

    /// <summary>Checks the spec; messages say what was expected.</summary>
    public void Validate()
    {
        if (InputFeatures <= 0) throw new ArgumentException($"A pair network needs at least one input feature per position, got {InputFeatures}.");
        if (PairFeatures < 0) throw new ArgumentException($"Pair features must be 0 or more, got {PairFeatures}.");
        if (LstmUnits < 0 || (LstmUnits > 0 && DenseFeatures <= 0)) throw new ArgumentException($"LSTM units {LstmUnits} with dense features {DenseFeatures}: both positive, or no LSTM (0).");
        if (EncoderChannels <= 0 || SkipChannels < 0 || OutChannels <= 0) throw new ArgumentException("Encoder and output channels must be positive, skip channels 0 or more.");
        foreach (var stage in Stages)
            if (stage.Length == 0 || stage.Any(b => b.Kernel <= 0 || b.Kernel % 2 == 0 || b.Channels <= 0))
                throw new ArgumentException($"Every stage needs branches with positive odd kernels and positive channels, got [{string.Join(", ", stage)}].");
        if (FinalKernel <= 0 || FinalKernel % 2 == 0) throw new ArgumentException($"The final kernel must be positive and odd, got {FinalKernel}.");
    }
}
