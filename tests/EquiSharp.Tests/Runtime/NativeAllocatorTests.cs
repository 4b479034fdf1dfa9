using EquiSharp.Runtime;

namespace EquiSharp.Tests.Runtime;

public class NativeAllocatorTests
{
    [Fact]
    public void RetainFreedMemoryAppliesOnGlibcLinux()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("EQUISHARP_NATIVE_ALLOCATOR") == "default") return;
        Assert.True(NativeAllocator.RetainFreedMemory(), "mallopt refused the settings (is this glibc?)");
    }
}
