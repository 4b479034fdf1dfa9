using EquiSharp.Layers.Pairwise.Packed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Pairwise.Network;

/// <summary>
/// The pair network shared by the RNA and protein-contact applications (SCNN paper Figs. 4–6), built from a
/// <see cref="PairNetworkSpec"/>: (B, L, n) per-position features [+ (B, P, L, L) symmetric pair features] →
/// (B, out, L, L) logits. With <c>Symmetric</c> every convolution is symmetry-generating or -preserving, so the logits
/// are symmetric by construction (Theorems 1–2); otherwise the same architecture uses plain convolutions (the CNN
/// baseline). Four forwards compute the same function: dense maps, packed symmetric maps (<see cref="PackedMaps"/>,
/// about half the memory and convolution work), tiled full-length inference (<see cref="TiledPairInference"/>) and,
/// for the SCNN at full length, row bands streamed through the layers (<see cref="StreamedPairInference"/>).
/// </summary>
public class PairNetwork : nn.Module<Tensor, Tensor>
{
    // field names are the state-dict names (kept from the RNA model, so earlier checkpoints load)
    private readonly LSTM? lstm;
    private readonly Linear? dense;
    private readonly PairEncoder encoder;
    private readonly ModuleList<PairConvStage> stages;
    private readonly PairEncoder? skip;
    private readonly PairConvStage head;
    private bool packedMaps;

    /// <summary>The architecture.</summary>
    public PairNetworkSpec Spec { get; }
    /// <summary>True for the SCNN (symmetric logits by construction).</summary>
    public bool Symmetric => Spec.Symmetric;

    /// <summary>
    /// Run the pair maps as packed symmetric maps (SCNN only): same outputs and gradients as dense maps (tested to
    /// 1e-4); a runtime choice, not part of the weights.
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

    /// <summary>
    /// How the pair convolutions are computed (<see cref="ConvolutionAlgorithm.Auto"/>: by FFTs for kernels of 9×9 and
    /// wider, the paper network's first two stages, or from 3×3 where oneDNN is off, see
    /// <see cref="ConvolutionAlgorithms.FourierFromKernel"/>); a runtime choice like <see cref="PackedMaps"/>: same
    /// function, the same weights, different speed and fp32 rounding.
    /// </summary>
    public ConvolutionAlgorithm Convolution
    {
        get => head.Algorithm;
        set { foreach (var s in stages) s.Algorithm = value; head.Algorithm = value; }
    }

    /// <summary>How far the widest pair convolution reads around an entry (the packed layout is built for it).</summary>
    public long Reach => Math.Max(stages.Count == 0 ? 0 : stages.Max(s => s.Reach), head.Reach);

    /// <param name="name">Module name (e.g. "RnaScnn").</param>
    /// <param name="spec">The architecture.</param>
    /// <param name="device">Device of parameters.</param>
    public PairNetwork(string name, PairNetworkSpec spec, Device? device = null) : base(name)
    {
        spec.Validate();
        Spec = spec;
        if (spec.LstmUnits > 0)
        {
            lstm = nn.LSTM(spec.InputFeatures, spec.LstmUnits, bidirectional: true, batchFirst: true, device: device);
            dense = nn.Linear(2 * spec.LstmUnits, spec.DenseFeatures, device: device);
        }
        var (init, norm) = (spec.Initialisation, spec.Norm);
        encoder = new PairEncoder(spec.EncodedFeatures, spec.EncoderChannels, 1, spec.Symmetric, spec.Activation, device: device, initialisation: init, normSettings: norm);
        long channels = spec.EncoderChannels + spec.PairFeatures;
        var list = new List<PairConvStage>();
        foreach (var stage in spec.Stages)
        {
            var s = new PairConvStage(channels, stage.Select(b => (b.Kernel, b.Channels)).ToArray(), spec.Symmetric, spec.Activation, device: device,
                initialisation: init, normSettings: norm);
            list.Add(s);
            channels = s.OutChannels;
        }
        stages = new ModuleList<PairConvStage>(list.ToArray());
        if (spec.SkipChannels > 0)
            skip = new PairEncoder(spec.InputFeatures, spec.SkipChannels, 1, spec.Symmetric, spec.Activation, device: device, initialisation: init, normSettings: norm);
        head = new PairConvStage(channels + spec.SkipChannels + spec.PairFeatures, new (long, long)[] { (spec.FinalKernel, spec.OutChannels) },
            spec.Symmetric, activation: null, device: device, initialisation: init, normSettings: norm);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => forward(input, null, null);

    /// <summary>
    /// (B, L, n) features, optional (B, P, L, L) pair features and optional lengths (B) → logits (B, out, L, L), zero
    /// outside each L_b×L_b block.
    /// </summary>
    public Tensor forward(Tensor input, Tensor? pairFeatures, Tensor? lengths)
    {
        CheckInputs(input, pairFeatures);
        long l = input.shape[1];
        var features = SequenceFeatures(input, lengths);
        if (packedMaps) return ForwardPacked(input, features, pairFeatures, lengths);
        var mask = lengths is null ? null : PairMask.FromLengths(lengths, l, input.dtype);
        if (pairFeatures is not null && mask is not null) pairFeatures = pairFeatures * mask;
        var y = encoder.forward(features, lengths);
        if (pairFeatures is not null) y = cat(new[] { y, pairFeatures }, 1);
        y = PairConvStage.Forward(stages, y, mask);
        var tail = new List<Tensor> { y };
        if (skip is not null) tail.Add(skip.forward(input, lengths));
        if (pairFeatures is not null) tail.Add(pairFeatures);
        y = tail.Count == 1 ? y : cat(tail.ToArray(), 1);
        return head.forward(y, mask);
    }

    /// <summary>The same network on packed symmetric maps: separable generating encoders, packed stages, dense logits at the end.</summary>
    internal Tensor ForwardPacked(Tensor input, Tensor features, Tensor? pairFeatures, Tensor? lengths)
    {
        var layout = PackedLayout.Default(input.shape[1], Reach);
        var mask = PackedSymmetricMap.BlockMask(layout, lengths, input.dtype);
        var packedPairs = pairFeatures is null ? null : PackedSymmetricMap.Pack(pairFeatures, layout).Masked(mask);
        if (!is_grad_enabled() && input.shape[0] == 1 && layout.BlockCount == 1 && packedPairs is null && layout.Margin >= Reach
            && Spec.Activation == PairActivation.ReLU) // ReLU stays pending, so batch norm's in-place output is the next canvas
            return ForwardPackedInPlace(input, features, lengths, layout, mask);
        var y = encoder.ForwardPacked(features, lengths, layout, mask);
        if (packedPairs is not null) y = PackedSymmetricMap.Concat(y, packedPairs);
        // the encoder's map is this forward's own: freed once the first stage has read it (autograd keeps its own references)
        y = PairConvStage.ForwardPacked(stages, y, mask, ownsInput: true);
        var tail = new List<PackedSymmetricMap> { y };
        if (skip is not null) tail.Add(skip.ForwardPacked(input, lengths, layout, mask));
        if (packedPairs is not null) tail.Add(packedPairs);
        return head.ForwardPacked(tail, mask).Unpack(); // concatenated, or (inference) convolved part by part
    }

    /// <summary>
    /// Full-length inference of one sequence (no autograd, no pair features) in one buffer of channel planes: the encoder
    /// writes its map there, every stage convolves in place (<see cref="PackedFunctions.ConvolveInPlace"/>), and the skip
    /// encoder writes its map into the planes after the last stage's, so the head reads both as one canvas. One map of the
    /// widest stage instead of a stage's input and output plus the skip map (measured at 1,526 nt, live memory: 799 → 706 MB
    /// for the stages alone).
    /// </summary>
    private Tensor ForwardPackedInPlace(Tensor input, Tensor features, Tensor? lengths, PackedLayout layout, Tensor? mask)
    {
        long last = stages.Count == 0 ? encoder.OutChannels : stages[stages.Count - 1].OutChannels;
        long planes = Math.Max(Math.Max(encoder.OutChannels, stages.Count == 0 ? 0 : stages.Max(s => s.OutChannels)), last + (skip?.OutChannels ?? 0));
        // EQUISHARP_PHASES=1 splits a full-length prediction into its layers (Runtime.PhaseLog; a no-op otherwise)
        Runtime.PhaseLog.Mark("inference: up to the encoder (sequence features)");
        using var buffer = empty(new[] { 1, planes, layout.Cells }, dtype: input.dtype, device: input.device);
        var y = encoder.ForwardPacked(features, lengths, layout, mask, buffer);
        Runtime.PhaseLog.Mark("inference: encoder");
        for (int k = 0; k < stages.Count; k++)
        {
            y = stages[k].ForwardPackedInPlace(y, buffer, mask);
            if (Runtime.PhaseLog.Enabled) Runtime.PhaseLog.Mark($"inference: stage {k + 1} ({stages[k].AlgorithmInUse})");
        }
        if (skip is null) return Head(y);
        using var rest = buffer.narrow(1, y.Channels, planes - y.Channels);
        var s = skip.ForwardPacked(input, lengths, layout, mask, rest);
        Runtime.PhaseLog.Mark("inference: skip encoder");
        if (s.PendingRelu != y.PendingRelu || !s.HaloFilled || !y.HaloFilled) return Head(new[] { y, s });
        // both maps lie side by side in the buffer with the same pending activation: one canvas for the head
        return Head(new PackedSymmetricMap(buffer.narrow(1, 0, y.Channels + s.Channels).view(1, 1, y.Channels + s.Channels, layout.BlockRows, layout.BlockCols),
            layout, y.PendingRelu, haloFilled: true));

        Tensor Head(params PackedSymmetricMap[] parts)
        {
            var logits = (parts.Length == 1 ? head.ForwardPacked(parts[0], mask) : head.ForwardPacked(parts, mask)).Unpack();
            Runtime.PhaseLog.Mark("inference: head, unpack");
            return logits;
        }
    }

    private void CheckInputs(Tensor input, Tensor? pairFeatures)
    {
        if (input.dim() != 3 || input.shape[2] != Spec.InputFeatures)
            throw new ArgumentException($"{GetName()}: expected features (B, L, {Spec.InputFeatures}), got [{string.Join(", ", input.shape)}].");
        if ((pairFeatures is null) != (Spec.PairFeatures == 0))
            throw new ArgumentException($"{GetName()}: the network was built for {Spec.PairFeatures} pair features; {(pairFeatures is null ? "none were given" : "got some")}.");
        if (pairFeatures is not null && (pairFeatures.dim() != 4 || pairFeatures.shape[1] != Spec.PairFeatures
            || pairFeatures.shape[0] != input.shape[0] || pairFeatures.shape[2] != input.shape[1] || pairFeatures.shape[3] != input.shape[1]))
            throw new ArgumentException($"{GetName()}: expected pair features ({input.shape[0]}, {Spec.PairFeatures}, {input.shape[1]}, {input.shape[1]}), got [{string.Join(", ", pairFeatures.shape)}].");
    }

    /// <summary>
    /// Per-position features fed to the self-Cartesian product, (B, L, n + dense): the dense projection of the BiLSTM
    /// output concatenated with the input (the input alone without an LSTM), zero past each length.
    /// </summary>
    public Tensor SequenceFeatures(Tensor input, Tensor? lengths = null)
    {
        if (lstm is null) return input.alias();
        long l = input.shape[1];
        Tensor h;
        if (lengths is null)
        {
            (h, var hn, var cn) = lstm.forward(input);
            hn.Dispose(); cn.Dispose();
        }
        else
        {
            // packed so the reverse direction starts at each sequence's own end: padding never leaks into real positions
            using var packed = nn.utils.rnn.pack_padded_sequence(input, lengths.cpu(), batch_first: true, enforce_sorted: false);
            var (outPacked, _, _) = lstm.call(packed);
            using (outPacked) (h, _) = nn.utils.rnn.pad_packed_sequence(outPacked, batch_first: true, total_length: l);
        }
        var features = cat(new[] { dense!.forward(h), input }, 2);
        if (lengths is not null) features = features * PairMask.SequenceMask(lengths, l, h.dtype).unsqueeze(2);
        return features;
    }

    /// <summary>
    /// Sets the output's starting level: the final batch norm's β (its shift; the conv bias before it is cancelled by the
    /// norm), so in training mode the mean logit over the norm's statistics entries is <paramref name="logit"/> at once,
    /// e.g. the logit of the positives' base rate instead of 0 (p = ½).
    /// </summary>
    public void InitialiseOutputBias(double logit)
    {
        using (no_grad())
        {
            if (head.Norm is PairBatchNorm2d norm) norm.Bias.fill_(KeptScalar.Of(logit));
            else throw new InvalidOperationException($"{GetName()}: the output stage has no batch norm whose shift could hold the output bias.");
        }
    }

    /// <summary>Trainable values (tied kernels count their free parameters only).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    // The parts, for layer-by-layer (tiled) inference.
    internal PairEncoder Encoder => encoder;
    internal IReadOnlyList<PairConvStage> Stages => stages.ToList();
    internal PairEncoder? Skip => skip;
    internal PairConvStage Head => head;
}
