namespace EquiSharp.Layers;

/// <summary>
/// Padding of a convolution, with PyTorch's choices: <see cref="Same"/> (output length = input length; stride 1
/// only, extra zero on the right when the kernel's extent dilation·(k−1) is odd), <see cref="Valid"/> (no padding),
/// or explicit zeros on both sides of each spatial axis (<see cref="Of"/>; an integer converts implicitly).
/// </summary>
public readonly record struct ConvolutionPadding
{
    /// <summary>What kind of padding this is.</summary>
    public ConvolutionPaddingKind Kind { get; }
    private readonly long[]? amounts;

    private ConvolutionPadding(ConvolutionPaddingKind kind, long[]? amounts) { Kind = kind; this.amounts = amounts; }

    /// <summary>'same': the output has the input's spatial size (requires stride 1).</summary>
    public static ConvolutionPadding Same => new(ConvolutionPaddingKind.Same, null);
    /// <summary>'valid': no padding.</summary>
    public static ConvolutionPadding Valid => new(ConvolutionPaddingKind.Valid, null);

    /// <summary>Explicit zero padding on both sides: one amount for every spatial axis, or one per axis.</summary>
    public static ConvolutionPadding Of(params long[] amounts)
    {
        if (amounts.Length == 0) throw new ArgumentException("Explicit padding needs at least one amount.", nameof(amounts));
        if (amounts.Any(a => a < 0)) throw new ArgumentException($"Padding must be non-negative, got [{string.Join(", ", amounts)}].", nameof(amounts));
        return new(ConvolutionPaddingKind.Explicit, (long[])amounts.Clone());
    }

    public static implicit operator ConvolutionPadding(long amount) => Of(amount);

    /// <summary>Zeros before and after each spatial axis for a kernel of the given sizes and dilations.</summary>
    public (long[] Before, long[] After) Resolve(long[] kernelSize, long[] dilation, long[] stride)
    {
        int dims = kernelSize.Length;
        switch (Kind)
        {
            case ConvolutionPaddingKind.Valid:
                return (new long[dims], new long[dims]);
            case ConvolutionPaddingKind.Same:
                if (stride.Any(s => s != 1))
                    throw new ArgumentException($"padding 'same' needs stride 1 (as in PyTorch), got stride [{string.Join(", ", stride)}].");
                var before = new long[dims];
                var after = new long[dims];
                for (int d = 0; d < dims; d++)
                {
                    long extent = dilation[d] * (kernelSize[d] - 1);
                    before[d] = extent / 2;
                    after[d] = extent - before[d];
                }
                return (before, after);
            default:
                var a = amounts!;
                if (a.Length != 1 && a.Length != dims)
                    throw new ArgumentException($"Explicit padding has {a.Length} amounts for {dims} spatial axes (give one, or one per axis).");
                var each = Enumerable.Range(0, dims).Select(d => a.Length == 1 ? a[0] : a[d]).ToArray();
                return (each, (long[])each.Clone());
        }
    }

    public override string ToString() => Kind switch
    {
        ConvolutionPaddingKind.Same => "'same'",
        ConvolutionPaddingKind.Valid => "'valid'",
        _ => string.Join("×", amounts!),
    };
}

/// <summary>The three padding choices of <see cref="ConvolutionPadding"/>.</summary>
public enum ConvolutionPaddingKind { Explicit, Same, Valid }
