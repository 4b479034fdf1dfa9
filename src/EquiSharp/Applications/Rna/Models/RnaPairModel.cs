using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Network;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Models;

/// <summary>Hyperparameters of the RNA pair model (both SCNN and CNN variants share them, so comparisons are matched).</summary>
public sealed record RnaModelConfig
{
    /// <summary>Units of the BiLSTM in each direction (0 = no LSTM).</summary>
    public int LstmUnits { get; init; } = 75;
    /// <summary>Per-position dense layer after the LSTM.</summary>
    public int DenseFeatures { get; init; } = 15;
    /// <summary>Channels of the generating 1×1 conv on the self-Cartesian product.</summary>
    public int EncoderChannels { get; init; } = 40;
    /// <summary>Multi-kernel stages: per stage, (kernel size, channels) branches.</summary>
    public (long Kernel, long Channels)[][] Stages { get; init; } =
        PairNetworkSpec.PaperStages.Select(s => s.Select(b => (b.Kernel, b.Channels)).ToArray()).ToArray();
    /// <summary>Channels of the skip branch (generating 1×1 conv of the one-hot self-Cartesian product).</summary>
    public int SkipChannels { get; init; } = 20;
    /// <summary>Kernel of the final 1-channel convolution.</summary>
    public int FinalKernel { get; init; } = 3;
    public PairActivation Activation { get; init; } = PairActivation.ReLU;
    /// <summary>
    /// Kernel initialisation: "glorot" (the layers' own: the paper's half-Glorot for tied kernels, Glorot-uniform for the
    /// CNN's plain ones) or "authors" (the authors' code: std √(0.5 / (C_in + C_out)) for every kernel, no k² term).
    /// </summary>
    public string Init { get; init; } = "glorot";
    /// <summary>ε, momentum and statistics of every batch norm; the statistics apply to the CNN only (<see cref="RnaPairModel.NetworkSpec"/>).</summary>
    public PairNormSettings Norm { get; init; } = PairNormSettings.Default;

    /// <summary>The authors' published architecture (SCNN paper Fig. 4 as refined by their code).</summary>
    public static RnaModelConfig Paper => new();

    /// <summary>A small model for the demo and smoke tests.</summary>
    public static RnaModelConfig Small => new()
    {
        LstmUnits = 16, DenseFeatures = 8, EncoderChannels = 32, SkipChannels = 8, FinalKernel = 3,
        Stages = new[] { new (long, long)[] { (7, 8), (5, 8) }, new (long, long)[] { (5, 12) } },
    };

    /// <summary>The named architecture sizes (<c>--size</c>): "paper" or "small".</summary>
    public static RnaModelConfig Named(string size) => size.Trim().ToLowerInvariant() switch
    {
        "paper" => Paper,
        "small" => Small,
        _ => throw new ArgumentException($"--size {size}: expected paper or small."),
    };
}

/// <summary>
/// RNA secondary-structure model (SCNN paper IV-B): the shared <see cref="PairNetwork"/> on the one-hot sequence
/// (BiLSTM → per-position dense → concatenated with the one-hot → self-Cartesian → generating 1×1 conv → BN, act →
/// multi-kernel stages → concatenated with a 1×1 generating conv of the one-hot self-Cartesian product → 3×3 conv to
/// 1 channel → BN → logits). With <c>symmetric: true</c> (RnaScnn) every conv is a symmetry-generating or -preserving
/// conv, so the output is symmetric by construction; with <c>symmetric: false</c> (RnaCnn) the same architecture uses
/// plain convs. Forward returns logits (B, L, L); apply a sigmoid for pair probabilities.
/// </summary>
public sealed class RnaPairModel : PairNetwork
{
    public RnaModelConfig Config { get; }

    public RnaPairModel(RnaModelConfig config, bool symmetric, Device? device = null)
        : base(symmetric ? "RnaScnn" : "RnaCnn", NetworkSpec(config, symmetric), device)
    {
        Config = config;
    }

    /// <summary>The pair-network architecture of an RNA configuration: 5 one-hot features in, one logit map out.</summary>
    public static PairNetworkSpec NetworkSpec(RnaModelConfig config, bool symmetric) => new()
    {
        InputFeatures = RnaFeatures.Classes,
        LstmUnits = config.LstmUnits, DenseFeatures = config.DenseFeatures, EncoderChannels = config.EncoderChannels,
        Stages = config.Stages.Select(s => s.Select(b => new PairBranch(b.Kernel, b.Channels)).ToArray()).ToArray(),
        SkipChannels = config.SkipChannels, FinalKernel = config.FinalKernel, OutChannels = 1,
        Activation = config.Activation, Symmetric = symmetric,
        Initialisation = ParseInit(config.Init),
        // a symmetric map's whole block already gives the mirrored-upper statistics (and packed maps store only that)
        Norm = symmetric ? config.Norm with { Statistics = PairNormStatistics.WholeBlock } : config.Norm,
    };

    /// <summary>"glorot" → null (the layers' own rules), "authors" → <see cref="KernelInitialisation.Authors"/>.</summary>
    public static KernelInitialisation? ParseInit(string name) => name.Trim().ToLowerInvariant() switch
    {
        "glorot" => null,
        "authors" => KernelInitialisation.Authors,
        _ => throw new ArgumentException($"--init {name}: expected glorot or authors."),
    };

    public override Tensor forward(Tensor onehot) => forward(onehot, null);

    /// <summary>(B, L, 5) one-hot with optional lengths (B) → logits (B, L, L), zero outside each L_b×L_b block.</summary>
    public Tensor forward(Tensor onehot, Tensor? lengths) => forward(onehot, null, lengths).squeeze(1);

    /// <summary>Full-length logits (L, L) of one sequence (1, L, 5) by tiled inference (<see cref="TiledPairInference"/>).</summary>
    public Tensor TiledLogits(Tensor onehot, TiledInferenceOptions? options = null)
    {
        using var scope = NewDisposeScope();
        return TiledPairInference.Logits(this, onehot, null, options)[0].MoveToOuterDisposeScope();
    }

    /// <summary>Pair probabilities of one sequence by tiled inference, row-major L×L.</summary>
    public float[] TiledProbabilities(string sequence, Device device, TiledInferenceOptions? options = null)
    {
        using var scope = NewDisposeScope();
        var logits = TiledPairInference.Logits(this, RnaFeatures.OneHot(sequence, device), null, options)[0];
        return nn.functional.sigmoid(logits).cpu().data<float>().ToArray();
    }
}
