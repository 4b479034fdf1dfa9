using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace EquiSharp.Runtime;

/// <summary>
/// Checks that libtorch's float32 convolution gradients are right on this CPU, and turns oneDNN (mkldnn) off when they
/// are not.
/// <para>
/// On a 2-core AMD EPYC host with AVX-512 (2026-12-01) the oneDNN kernel behind the float32 input gradient of
/// <c>conv2d</c> (and <c>conv_transpose2d</c>) returned wrong values for kernels of 3×3 and up — 20–90 % relative error,
/// sometimes NaN, differing from call to call — while the forward, the weight gradient and every float64 path were
/// right. Training turned NaN within a few steps. With oneDNN off, libtorch's own convolution agrees with float64 to
/// 3e-7. The check compares <c>conv_transpose2d</c> (the same kernel as the input gradient) in float32 against float64
/// for 3×3, 5×5 and 9×9 kernels, twice each; its cost is a few milliseconds.
/// </para>
/// <para>
/// With oneDNN off, libtorch next considers NNPACK for every float32 convolution; on CPUs it does not support (the same
/// host) each of those checks logs "Could not initialize NNPACK! Reason: Unsupported hardware" — thousands of lines a
/// minute of training. So the guard turns NNPACK off with oneDNN (libtorch tests its user flag first), and the fallback
/// is libtorch's native im2col + GEMM convolution, the path the check measured.
/// </para>
/// <c>EQUISHARP_MKLDNN=1</c> keeps oneDNN on without checking, <c>EQUISHARP_MKLDNN=0</c> turns it off without checking.
/// </summary>
public static class ConvolutionKernelGuard
{
    private static readonly object Gate = new();
    private static bool done;

    /// <summary>Largest relative deviation the check found with oneDNN on (null before the check or when it was skipped).</summary>
    public static double? DeviationWithOneDnn { get; private set; }

    /// <summary>Whether the guard turned oneDNN off in this process.</summary>
    public static bool OneDnnDisabled { get; private set; }

    /// <summary>Float32 against float64 beyond this is a broken kernel, not rounding (rounding is ~1e-7 here).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Runs the check once per process (later calls return at once). Returns whether oneDNN is off.</summary>
    public static bool Ensure()
    {
        lock (Gate)
        {
            if (done) return OneDnnDisabled;
            done = true;
            var setting = Environment.GetEnvironmentVariable("EQUISHARP_MKLDNN");
            if (setting == "1") return false;
            try
            {
                if (setting != "0")
                {
                    DeviationWithOneDnn = MeasureDeviation();
                    if (DeviationWithOneDnn <= Tolerance) return false;
                }
                OneDnnDisabled = SetOneDnn(false);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or ExternalException)
            {
                // no libtorch with these symbols: nothing to guard
            }
            return OneDnnDisabled;
        }
    }

    /// <summary>
    /// Largest relative deviation (NaN counts as infinite) of float32 <c>conv_transpose2d</c> from float64, over a few
    /// kernel sizes, with the current libtorch settings.
    /// </summary>
    public static double MeasureDeviation()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator(17);
        double worst = 0;
        foreach (long k in new long[] { 3, 5, 9 })
        {
            var upstream = randn(new long[] { 2, 4, 12, 12 }, dtype: ScalarType.Float64, generator: generator);
            var weight = randn(new long[] { 4, 3, k, k }, dtype: ScalarType.Float64, generator: generator);
            var padding = new[] { k / 2, k / 2 };
            var exact = nn.functional.conv_transpose2d(upstream, weight, padding: padding);
            double scale = exact.abs().max().item<double>();
            for (int repeat = 0; repeat < 2; repeat++)
            {
                var single = nn.functional.conv_transpose2d(upstream.to(ScalarType.Float32), weight.to(ScalarType.Float32), padding: padding);
                double d = single.to(ScalarType.Float64).sub(exact).abs().max().item<double>() / scale;
                worst = double.IsFinite(d) ? Math.Max(worst, d) : double.PositiveInfinity;
            }
        }
        return worst;
    }

    /// <summary>
    /// Turns libtorch's use of oneDNN on or off (<c>at::globalContext().setUserEnabledMkldnn</c>), and NNPACK with it
    /// (<c>setUserEnabledNNPACK</c>, see the class remarks). Returns whether oneDNN is now off.
    /// </summary>
    public static bool SetOneDnn(bool enabled)
    {
        SetContextFlag("_ZN2at7Context20setUserEnabledNNPACKEb", "_ZNK2at7Context17userEnabledNNPACKEv", enabled);
        return SetContextFlag("_ZN2at7Context20setUserEnabledMkldnnEb", "_ZNK2at7Context17userEnabledMkldnnEv", enabled) == false;
    }

    /// <summary>Whether libtorch may use NNPACK (<c>at::globalContext().userEnabledNNPACK()</c>); null if not reachable.</summary>
    public static bool? NnpackEnabled => ContextFlag("_ZNK2at7Context17userEnabledNNPACKEv");

    /// <summary>Sets one of libtorch's boolean <c>at::Context</c> flags by its exported setter; returns its value after, or null if not reachable.</summary>
    private static bool? SetContextFlag(string setterSymbol, string getterSymbol, bool value)
    {
        if (LibTorchContext() is not var (lib, context)) return null;
        if (!NativeLibrary.TryGetExport(lib, setterSymbol, out var setter)) return null;
        unsafe { ((delegate* unmanaged<IntPtr, byte, void>)setter)(context, value ? (byte)1 : (byte)0); }
        return ContextFlag(getterSymbol);
    }

    private static bool? ContextFlag(string getterSymbol)
    {
        if (LibTorchContext() is not var (lib, context)) return null;
        if (!NativeLibrary.TryGetExport(lib, getterSymbol, out var getter)) return null;
        unsafe { return ((delegate* unmanaged<IntPtr, byte>)getter)(context) != 0; }
    }

    /// <summary>libtorch_cpu's handle and its <c>at::globalContext()</c>, or null when the library or symbol is not found.</summary>
    private static (IntPtr Library, IntPtr Context)? LibTorchContext()
    {
        using (zeros(1)) { }   // loads libtorch, so libtorch_cpu.so is found by name
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var lib)
            && !NativeLibrary.TryLoad("torch_cpu.dll", out lib)
            && !NativeLibrary.TryLoad("libtorch_cpu.dylib", out lib)) return null;
        if (!NativeLibrary.TryGetExport(lib, "_ZN2at13globalContextEv", out var globalContext)) return null;
        unsafe { return (lib, ((delegate* unmanaged<IntPtr>)globalContext)()); }
    }
}
