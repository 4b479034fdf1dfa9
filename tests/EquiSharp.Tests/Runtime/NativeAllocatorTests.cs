using EquiSharp.Runtime;

namespace EquiSharp.Tests.Runtime;

public class NativeAllocatorTests
{
    [RetainingAllocatorFact]
    public void RetainFreedMemoryAppliesOnGlibcLinux()
    {
        Assert.True(NativeAllocator.RetainFreedMemory(), "mallopt refused the settings (is this glibc?)");
    }
}
