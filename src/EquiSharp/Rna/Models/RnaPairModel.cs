using EquiSharp.Pairwise;
using EquiSharp.Pairwise.Packed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Rna.Models;

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
    {
        new (long, long)[] { (13, 20), (9, 20), (5, 10) },
        new (long, long)[] { (9, 20), (5, 20) },
        new (long, long)[] { (5, 20) },
    };
    /// <summary>Channels of the skip branch (generating 1×1 conv of the one-hot self-Cartesian product).</summary>
    public int SkipChannels { get; init; } = 20;
    /// <summary>Kernel of the final 1-channel convolution.</summary>
    public int FinalKernel { get; init; } = 3;
    public PairActivation Activation { get; init; } = PairActivation.ReLU;

    /// <summary>The authors' published architecture (SCNN paper Fig. 4 as refined by their code).</summary>
    public static RnaModelConfig Paper => new();

    /// <summary>A small model for the demo and smoke tests.</summary>
    public static RnaModelConfig Small => new()
    {
        LstmUnits = 16, DenseFeatures = 8, EncoderChannels = 32, SkipChannels = 8, FinalKernel = 3,
        Stages = new[] { new (long, long)[] { (7, 8), (5, 8) }, new (long, long)[] { (5, 12) } },
    };
}

/// <summary>
/// RNA secondary-structure model (SCNN paper IV-B): BiLSTM over the one-hot sequence → per-position dense →
/// concatenated with the one-hot → self-Cartesian → generating 1×1 conv → BN, act → multi-kernel stages →
/// concatenated with a 1×1 generating conv of the one-hot self-Cartesian product → 3×3 conv to 1 channel → BN →
/// logits. With <c>symmetric: true</c> (RnaScnn) every conv is a symmetry-generating or -preserving conv, so the
/// output is symmetric by construction; with <c>symmetric: false</c> (RnaCnn) the same architecture uses plain convs.
/// Forward returns logits (B, L, L); apply a sigmoid for pair probabilities.
/// </summary>
public sealed class RnaPairModel : nn.Module<Tensor, Tensor>
{
    private readonly LSTM? lstm;
    private readonly Linear? dense;
    private readonly PairEncoder encoder;
    private readonly ModuleList<PairConvStage> stages;
    private readonly PairEncoder skip;
    private readonly PairConvStage head;

    public RnaModelConfig Config { get; }
    public bool Symmetric { get; }

    /// <summary>
    /// Run the pair maps as packed symmetric maps (folded layout: about half the memory and convolution work; SCNN only).
    /// Same outputs and gradients as the dense maps (tested to 1e-4); a runtime choice, not part of the weights.
    /// </summary>
    public bool PackedMaps
    {
        get => packedMaps;
        set
        {
            if (value && !Symmetric) throw new InvalidOperationException("Packed maps need the symmetric model (SCNN); the CNN's maps are not symmetric.");
            packedMaps = value;
        }
    }
    private bool packedMaps;

    /// <summary>How far the widest pair convolution reads around an entry (the packed layout is built for it).</summary>
    public long Reach => Math.Max(stages.Count == 0 ? 0 : stages.Max(s => s.Reach), head.Reach);

    public RnaPairModel(RnaModelConfig config, bool symmetric, Device? device = null) : base(symmetric ? "RnaScnn" : "RnaCnn")
    {
        Config = config;
        Symmetric = symmetric;
        long features = RnaFeatures.Classes;
        if (config.LstmUnits > 0)
        {
            lstm = nn.LSTM(RnaFeatures.Classes, config.LstmUnits, bidirectional: true, batchFirst: true, device: device);
            dense = nn.Linear(2 * config.LstmUnits, config.DenseFeatures, device: device);
            features += config.DenseFeatures;
        }
        encoder = new PairEncoder(features, config.EncoderChannels, 1, symmetric, config.Activation, device: device);
        long channels = config.EncoderChannels;
        var list = new List<PairConvStage>();
        foreach (var stage in config.Stages)
        {
            var s = new PairConvStage(channels, stage.Select(b => (b.Kernel, b.Channels)).ToArray(), symmetric, config.Activation, device: device);
            list.Add(s);
            channels = s.OutChannels;
        }
        stages = new ModuleList<PairConvStage>(list.ToArray());
        skip = new PairEncoder(RnaFeatures.Classes, config.SkipChannels, 1, symmetric, config.Activation, device: device);
        head = new PairConvStage(channels + config.SkipChannels, new (long, long)[] { (config.FinalKernel, 1) }, symmetric, activation: null, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor onehot) => forward(onehot, null);

    /// <summary>(B, L, 5) one-hot with optional lengths (B) → logits (B, L, L), zero outside each L_b×L_b block.</summary>
    public Tensor forward(Tensor onehot, Tensor? lengths)
    {
        long l = onehot.shape[1];
        var features = Features(onehot, lengths);
        if (packedMaps) return ForwardPacked(onehot, features, lengths);
        var mask = lengths is null ? null : PairMask.FromLengths(lengths, l, onehot.dtype);
        var y = encoder.forward(features, lengths);
        foreach (var stage in stages) y = stage.forward(y, mask);
        y = cat(new[] { y, skip.forward(onehot, lengths) }, 1);
        return head.forward(y, mask).squeeze(1);
    }

    /// <summary>The same network on packed symmetric maps: separable generating encoders, packed stages, dense logits at the end.</summary>
    private Tensor ForwardPacked(Tensor onehot, Tensor features, Tensor? lengths)
    {
        var layout = PackedLayout.Default(onehot.shape[1], Reach);
        var mask = PackedSymmetricMap.BlockMask(layout, lengths, onehot.dtype);
        var y = encoder.ForwardPacked(features, lengths, layout, mask);
        foreach (var stage in stages) y = stage.ForwardPacked(y, mask);
        y = PackedSymmetricMap.Concat(y, skip.ForwardPacked(onehot, lengths, layout, mask));
        return head.ForwardPacked(y, mask).Unpack().squeeze(1);
    }

    /// <summary>Per-position features for the encoder: BiLSTM → dense, concatenated with the one-hot (masked past each length).</summary>
    private Tensor Features(Tensor onehot, Tensor? lengths)
    {
        long l = onehot.shape[1];
        var features = onehot;
        if (lstm is not null)
        {
            Tensor h;
            if (lengths is null) (h, _, _) = lstm.forward(onehot);
            else
            {
                // packed so the reverse direction starts at each sequence's own end: padding never leaks into real positions
                using var packed = nn.utils.rnn.pack_padded_sequence(onehot, lengths.cpu(), batch_first: true, enforce_sorted: false);
                var (outPacked, _, _) = lstm.call(packed);
                using (outPacked) (h, _) = nn.utils.rnn.pad_packed_sequence(outPacked, batch_first: true, total_length: l);
            }
            features = cat(new[] { dense!.forward(h), onehot }, 2);
            if (lengths is not null) features = features * PairMask.SequenceMask(lengths, l, h.dtype).unsqueeze(2);
        }
        return features;
    }

    /// <summary>Trainable parameters (tied kernels count their free parameters only).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    // Parts for layer-by-layer (tiled) inference in Rna/Inference.
    internal LSTM? Lstm => lstm;
    internal Linear? Dense => dense;
    internal PairEncoder Encoder => encoder;
    internal IReadOnlyList<PairConvStage> Stages => stages.ToList();
    internal PairEncoder Skip => skip;
    internal PairConvStage Head => head;

    /// <summary>
    /// Per-sequence features fed to the self-Cartesian product, (B, L, 5 + DenseFeatures): the dense projection of the
    /// BiLSTM output concatenated with the one-hot (just the one-hot without an LSTM). No lengths: one unpadded batch.
    /// </summary>
    internal Tensor SequenceFeatures(Tensor onehot)
    {
        if (lstm is null) return onehot.alias();
        var (h, hn, cn) = lstm.forward(onehot);
        hn.Dispose(); cn.Dispose();
        return cat(new[] { dense!.forward(h), onehot }, 2);
    }
}
