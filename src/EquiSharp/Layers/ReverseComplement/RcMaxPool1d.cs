using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.ReverseComplement;

/// <summary>
/// Max-pooling between RC layers (§3.4: width and stride 20 after the convolution of the simulated-data model, width 40
/// stride 20 in the ChIP-seq model). Pooling acts on each channel alone, so it commutes with reversing channels; it
/// commutes with reversing the length exactly when the windows are laid out symmetrically, i.e. when
/// (L − width) is divisible by the stride (then window p covers [p·s, p·s + w) and window P−1−p its mirror image).
/// The layer is given its input length and refuses any other, so an RC model's exactness is settled at construction.
/// </summary>
public sealed class RcMaxPool1d : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    public long Width { get; }
    public long Stride { get; }
    /// <summary>The fixed input length.</summary>
    public long InputLength { get; }
    /// <summary>1 + ⌊(L − width)/stride⌋ (§3.6.3).</summary>
    public long OutputLength => 1 + (InputLength - Width) / Stride;

    public RcMaxPool1d(long width, long stride, long inputLength) : base(nameof(RcMaxPool1d))
    {
        if (width <= 0 || stride <= 0) throw new ArgumentException($"{nameof(RcMaxPool1d)}: width and stride must be positive, got {width} and {stride}.");
        RcLayout.RequireSymmetricWindows("max-pooling", inputLength, width, stride);
        Width = width;
        Stride = stride;
        InputLength = inputLength;
    }

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 3 || x.shape[2] != InputLength)
            throw new ArgumentException($"{nameof(RcMaxPool1d)}: expected (B, C, {InputLength}), got [{string.Join(", ", x.shape)}] (the window layout was checked for this length only).");
        return nn.functional.max_pool1d(x, Width, Stride);
    }

    public long FreeParameterCount => 0;
    public long DenseParameterCount(long? size = null) => 0;
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null) => nn.MaxPool1d(Width, Stride);
    public string InputDescription => $"(B, n, {InputLength}), RC-structured";
    public string OutputDescription => $"(B, n, {OutputLength}), RC-structured";
    public string SymmetryDescription => "pool(rc(x)) = rc(pool(x)) for a symmetric window layout (§3.4)";

    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var x = randn(new[] { 3, 6, InputLength }, generator: generator);
        return Deviation.Relative(forward(ReverseComplementTies.Apply(x)), ReverseComplementTies.Apply(forward(x)));
    }

    public override string ToString() => $"RcMaxPool1d(width {Width}, stride {Stride}, length {InputLength} → {OutputLength})";
}

/// <summary>Construction-time checks that a layout keeps exact reverse-complement invariance.</summary>
public static class RcLayout
{
    /// <summary>
    /// Refuses a window layout (pooling, or a strided convolution's receptive fields) that is not symmetric under
    /// reversal of the length axis: (length − window) must be divisible by the stride and the window must fit.
    /// </summary>
    public static void RequireSymmetricWindows(string stage, long length, long window, long stride)
    {
        if (length < window)
            throw new ArgumentException($"{stage}: the input length {length} is shorter than the window {window}.");
        long span = length - window;
        if (span % stride != 0)
            throw new ArgumentException(
                $"{stage}: (input length {length} − window {window}) = {span} is not divisible by the stride {stride}, so the last {span % stride} position(s) fall outside every window " +
                $"at one end only; the reverse complement of a sequence would then be read through different windows and the model would not be exactly reverse-complement invariant. " +
                $"Choose a length, window and stride with (length − window) divisible by the stride (e.g. the paper's 180 with width and stride 20).");
    }
}
