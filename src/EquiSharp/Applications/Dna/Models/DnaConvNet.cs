using EquiSharp.Layers;
using EquiSharp.Layers.ReverseComplement;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Dna.Models;

/// <summary>
/// A DNA classifier built from a <see cref="DnaModelSpec"/>: input one-hot (B, 4, L) in ACGT order, output logits
/// (B, tasks). The RC variant uses <see cref="RcConv1d"/>, <see cref="RcBatchNorm1d"/>, <see cref="RcMaxPool1d"/>,
/// <see cref="RcWeightedSum"/> and <see cref="RcDense"/> (frozen to ones for a single task, §3.4.2) and is exactly
/// invariant: f(rc(x)) = f(x); its window layout is validated at construction. The standard variant is
/// Conv1d/BatchNorm1d/ReLU, MaxPool1d and Linear, Glorot-initialised like the paper's Keras models.
/// Parameter counts reproduce §3.4.1: 2,283 (standard, 20 filters) and 1,983 (RC, 20 filters).
/// </summary>
public sealed class DnaConvNet : nn.Module<Tensor, Tensor>
{
    private readonly Sequential convolutions;
    private readonly nn.Module<Tensor, Tensor> pool;
    private readonly nn.Module<Tensor, Tensor> head;

    public DnaModelSpec Spec { get; }
    /// <summary>Length of the pooled map (§3.6.3).</summary>
    public long PooledLength { get; }
    /// <summary>Output channels of the last convolution (2F for the RC model).</summary>
    public long ConvolutionChannels { get; }

    /// <summary>
    /// Keras's glorot_uniform on an RC filter bank counts only the F stored filters in fan_out (the RC copies are not
    /// separate weights there): variance 2/(n·k + F·k).
    /// </summary>
    public static readonly KernelInitialisation GlorotOverStoredFilters = new("glorot-stored-filters",
        f => 2.0 / (f.FanIn + f.FanOut / 2) / f.MultiplicityInFilter);

    public DnaConvNet(DnaModelSpec spec, Device? device = null) : base(nameof(DnaConvNet))
    {
        Spec = spec;
        bool rc = spec.IsReverseComplement;
        if (spec.Filters <= 0) throw new ArgumentException($"filters must be positive, got {spec.Filters}.");
        if (spec.TaskNames.Length == 0) throw new ArgumentException("a model needs at least one task.");
        if (spec.KernelWidths.Length == 0 || spec.KernelWidths.Any(k => k <= 0)) throw new ArgumentException($"kernel widths must be positive, got [{string.Join(", ", spec.KernelWidths)}].");
        long length = spec.ConvolutionOutputLength;
        if (length < spec.PoolWidth)
            throw new ArgumentException($"sequence length {spec.SequenceLength} leaves {length} positions after convolutions of widths {string.Join(", ", spec.KernelWidths)}, fewer than the pooling width {spec.PoolWidth}.");

        convolutions = nn.Sequential();
        long inChannels = 4;
        for (int i = 0; i < spec.KernelWidths.Length; i++)
        {
            int k = spec.KernelWidths[i];
            if (rc)
            {
                var conv = new RcConv1d(inChannels, spec.Filters, k, initialisation: GlorotOverStoredFilters, device: device);
                convolutions.append($"conv{i}", conv);
                convolutions.append($"norm{i}", new RcBatchNorm1d(2 * spec.Filters, device: device));
                inChannels = 2 * spec.Filters;
            }
            else
            {
                var conv = nn.Conv1d(inChannels, spec.Filters, k, device: device);
                using (no_grad())
                {
                    nn.init.xavier_uniform_(conv.weight!);
                    conv.bias!.zero_();
                }
                convolutions.append($"conv{i}", conv);
                convolutions.append($"norm{i}", nn.BatchNorm1d(spec.Filters, device: device));
                inChannels = spec.Filters;
            }
            convolutions.append($"relu{i}", nn.ReLU());
        }
        ConvolutionChannels = inChannels;
        int tasks = spec.TaskNames.Length;
        if (rc)
        {
            var rcPool = new RcMaxPool1d(spec.PoolWidth, spec.PoolStride, length);   // refuses asymmetric window layouts
            pool = rcPool;
            PooledLength = rcPool.OutputLength;
            head = nn.Sequential(
                ("weighted_sum", new RcWeightedSum(inChannels, PooledLength, device: device)),
                ("dense", new RcDense(inChannels, tasks, frozenOnes: tasks == 1, device: device)));
        }
        else
        {
            pool = nn.MaxPool1d(spec.PoolWidth, spec.PoolStride);
            PooledLength = 1 + (length - spec.PoolWidth) / spec.PoolStride;
            var dense = nn.Linear(inChannels * PooledLength, tasks, device: device);
            using (no_grad())
            {
                nn.init.xavier_uniform_(dense.weight!);
                dense.bias!.zero_();
            }
            head = nn.Sequential(("flatten", nn.Flatten()), ("dense", dense));
        }
        RegisterComponents();
    }

    /// <summary>Activations after the last convolution block (B, channels, L'), the map filter contributions are taken on.</summary>
    public Tensor ConvolutionMap(Tensor x)
    {
        if (x.dim() != 3 || x.shape[1] != 4 || x.shape[2] != Spec.SequenceLength)
            throw new ArgumentException($"expected one-hot sequences (B, 4, {Spec.SequenceLength}), got [{string.Join(", ", x.shape)}].");
        return convolutions.forward(x);
    }

    /// <summary>Logits from the last convolution block's activations.</summary>
    public Tensor Head(Tensor map) => head.forward(pool.forward(map));

    /// <summary>Logits (B, tasks).</summary>
    public override Tensor forward(Tensor x) => Head(ConvolutionMap(x));

    /// <summary>Trainable values (free parameters of tied weights plus untied ones).</summary>
    public long FreeParameterCount => parameters().Sum(p => p.numel());

    public override string ToString() =>
        $"{(Spec.IsReverseComplement ? "RC" : "standard")} model: {Spec.Filters} filters, convolutions {string.Join("/", Spec.KernelWidths)}, pool {Spec.PoolWidth}/{Spec.PoolStride}, " +
        $"length {Spec.SequenceLength}, {Spec.TaskNames.Length} task(s), {FreeParameterCount} parameters";
}
