using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Runtime;

/// <summary>
/// The runtime under every layer: libtorch's float32 convolution gradient is right on this CPU (after
/// <see cref="ConvolutionKernelGuard"/>), and the tensor arena (<see cref="TorchCpuAllocator"/>) works on this machine: a large tensor is served from it and holds
/// its values. Listed only where the arena is installed (the CLI installs it unless
/// <c>EQUISHARP_NATIVE_ALLOCATOR=default</c>), since the allocator falls back to libtorch's own wherever its C++ layout
/// check fails.
/// </summary>
[CheckFamily(Order = 40)]
public static class RuntimeChecks
{
    public static IEnumerable<EquivarianceCheck> All()
    {
        yield return new("runtime.float32 convolution input gradient (conv_transpose2d) matches float64", () =>
        {
            ConvolutionKernelGuard.Ensure();
            return ConvolutionKernelGuard.MeasureDeviation();
        });
        if (!TorchCpuAllocator.Installed) yield break;
        yield return new("runtime.tensor arena: a 64 MiB tensor is served from it and holds its values", () =>
        {
            const long n = 16L << 20;   // float32 elements: 64 MiB
            using var scope = NewDisposeScope();
            var x = KeptScalar.Range(n, dtype: ScalarType.Float64).to(ScalarType.Float32);
            if (!TorchCpuAllocator.Holds(x.storage<float>().data_ptr())) return 1.0;
            double exact = (double)n * (n - 1) / 2, sum = x.to(ScalarType.Float64).sum().item<double>();
            return Math.Abs(sum - exact) / exact;   // float32 holds the integers below 2^24 exactly: 0
        });
    }
}
