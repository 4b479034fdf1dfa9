using System.Runtime.CompilerServices;
using EquiSharp.Runtime;
using TorchSharp;

namespace EquiSharp.Tests.Runtime;

/// <summary>The whole suite runs on the tensor arena the CLI installs, so every exactness test also checks it.</summary>
internal static class TensorAllocatorForTheSuite
{
    [ModuleInitializer]
    internal static void Install()
    {
        TorchCpuAllocator.InstallFromEnvironment();
        ConvolutionKernelGuard.Ensure();   // as the CLI does: on a CPU whose oneDNN convolution gradient is wrong, libtorch's own kernels
    }
}

public class TorchCpuAllocatorTests
{
    [TensorArenaFact]
    public void IsInstalledInThisProcess()
    {
        Assert.True(TorchCpuAllocator.Installed, TorchCpuAllocator.NotInstalledReason);
    }

    [TensorArenaFact]
    public void LargeTensorsLiveInTheArenaAndReturnToItWhenDisposed()
    {
        Assert.True(TorchCpuAllocator.Installed, TorchCpuAllocator.NotInstalledReason);
        // other tests allocate in parallel, so the arena's live bytes are compared with a margin no test reaches
        const long bytes = 3L << 30;
        long before = TorchCpuAllocator.Statistics!.Value.Live;
        using (torch.NewDisposeScope())   // the element views below hold the storage too
        {
            var big = torch.empty(bytes / 4, torch.float32);
            Assert.True(TorchCpuAllocator.Statistics!.Value.Live - before >= bytes - (1L << 30));
            big[0] = 7f;
            big[bytes / 4 - 1] = 9f;
            Assert.Equal((7f, 9f), (big[0].item<float>(), big[bytes / 4 - 1].item<float>()));
        }
        Assert.True(TorchCpuAllocator.Statistics!.Value.Live - before < 1L << 30);
    }

    [TensorArenaFact]
    public void SmallEmptyAndLargeTensorsComputeAsUsual()
    {
        using var empty = torch.zeros(0);
        using var small = KeptScalar.Range(10, dtype: torch.float32);
        using var large = KeptScalar.Range(1 << 20, dtype: torch.float64);
        Assert.Equal(0, empty.numel());
        Assert.Equal(45.0, small.sum().item<float>());
        Assert.Equal((double)(1L << 20) * ((1 << 20) - 1) / 2, large.sum().item<double>());
        using var moved = large.to(torch.float32).clone();   // large copy through the arena
        Assert.Equal(large[12345].item<double>(), moved[12345].item<float>());
    }
}

/// <summary>A fact about the tensor arena: skipped only when EQUISHARP_TENSOR_ARENA=0 or EQUISHARP_NATIVE_ALLOCATOR=default turned it off.</summary>
public sealed class TensorArenaFactAttribute : FactAttribute
{
    public TensorArenaFactAttribute()
    {
        if (NativeAllocator.DefaultsRequested || Environment.GetEnvironmentVariable("EQUISHARP_TENSOR_ARENA") == "0")
            Skip = "EQUISHARP_TENSOR_ARENA=0 or EQUISHARP_NATIVE_ALLOCATOR=default turns the tensor arena off for this run";
    }
}
