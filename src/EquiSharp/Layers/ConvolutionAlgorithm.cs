namespace EquiSharp.Layers;

/// <summary>
/// How a layer computes its stride-1, undilated 2-D convolutions. Both give the same sums (the Fourier form's fp32
/// rounding is smaller, see <see cref="FourierConvolution"/>); they differ in speed, which depends on the kernel size.
/// </summary>
public enum ConvolutionAlgorithm
{
    /// <summary><see cref="ConvolutionAlgorithm.Fourier"/> for kernels of <see cref="ConvolutionAlgorithms.FourierFromKernel"/> or wider, direct below.</summary>
    Auto,
    /// <summary>libtorch's convolution (oneDNN on CPU, or its im2col kernel where the guard turned oneDNN off): k² multiply-adds per output cell and channel pair.</summary>
    Direct,
    /// <summary>Tiled FFTs (<see cref="FourierConvolution"/>); dilated kernels fall back to direct.</summary>
    Fourier,
}

/// <summary>The rule <see cref="ConvolutionAlgorithm.Auto"/> follows.</summary>
public static class ConvolutionAlgorithms
{
    /// <summary>
    /// The narrowest kernel Auto computes by FFTs where libtorch's direct convolution is oneDNN's. Measured (40 → 50
    /// channels, 146 × 268 maps, forward + backward, one thread): Fourier / direct = 1.14 at 7×7, 0.69 at 9×9, 0.34 at
    /// 13×13 — the transforms cost the same for every k.
    /// </summary>
    public const long FourierFromKernelWithOneDnn = 9;

    /// <summary>
    /// The narrowest kernel Auto computes by FFTs where <see cref="Runtime.ConvolutionKernelGuard"/> turned oneDNN off:
    /// libtorch then convolves with its im2col + GEMM kernel, which unfolds the whole batch into k² copies of the input
    /// (forward, and again in backward) — slower than the FFTs from 3×3 on, and at crop 256 its 5×5 buffers alone are
    /// ≈ 0.6 GB. Measured on the host the guard was written for (a 10-step <c>rna train</c> process of the paper SCNN,
    /// batch 4, with its 1,526-nt report): crop 128 14.1 → 10.3 s, crop 256 34 s / 1.63 GB → 22 s / 0.96 GB, with
    /// every kernel above 1×1 by FFTs instead of those below 9×9 directly.
    /// </summary>
    public const long FourierFromKernelWithoutOneDnn = 3;

    /// <summary>The narrowest kernel Auto computes by FFTs in this process (depends on whether oneDNN convolves).</summary>
    public static long FourierFromKernel =>
        Runtime.ConvolutionKernelGuard.OneDnnDisabled ? FourierFromKernelWithoutOneDnn : FourierFromKernelWithOneDnn;

    /// <summary>
    /// The algorithm new pair-network stages start with, like torch's default dtype (the CLI's <c>--conv</c> sets it
    /// before any model is built or loaded); a built network is switched with <c>PairNetwork.Convolution</c>.
    /// </summary>
    public static ConvolutionAlgorithm Default { get; set; } = ConvolutionAlgorithm.Auto;

    /// <summary>Whether convolutions whose widest kernel is <paramref name="widestKernel"/> run by FFTs under <paramref name="algorithm"/>.</summary>
    public static bool UsesFourier(this ConvolutionAlgorithm algorithm, long widestKernel, bool dilated = false) =>
        !dilated && (algorithm == ConvolutionAlgorithm.Fourier || algorithm == ConvolutionAlgorithm.Auto && widestKernel >= FourierFromKernel);

    /// <summary>Parses "auto", "direct" or "fourier" (case-insensitive), the CLI's spelling.</summary>
    public static ConvolutionAlgorithm Parse(string text) => text.ToLowerInvariant() switch
    {
        "auto" => ConvolutionAlgorithm.Auto,
        "direct" => ConvolutionAlgorithm.Direct,
        "fourier" or "fft" => ConvolutionAlgorithm.Fourier,
        _ => throw new ArgumentException($"unknown convolution algorithm '{text}' (auto, direct or fourier)."),
    };
}
