using System.Text.RegularExpressions;

namespace EquiSharp.Tests.Cli;

/// <summary><c>equisharp info</c> as a user runs it: versions, and the native allocator the CLI set up at start-up.</summary>
public sealed class InfoCommandTests
{
    [LinuxFact]
    public void ReportsTheRetainingAllocatorWithItsFreeHeapTop()
    {
        // without growth padding the start-up reserve is the only free heap top (0 MiB without it): 256 MiB minus what
        // loading libtorch took from it, so big tensors start in the heap whatever the heap did before
        var r = ChildCli.Run(new Dictionary<string, string> { ["EQUISHARP_NATIVE_ALLOCATOR"] = "", ["EQUISHARP_MALLOC_TOP_PAD_MB"] = "0" }, "info");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("libtorch     2.10", r.Out);
        // the reserve itself (measured right after it) is what the start-up controls; what is left of it after libtorch
        // and the runtime have loaded depends on the process's environment (seen: 224 MiB from a shell, 0 from a test host)
        var m = Regex.Match(r.Out, @"allocator +retaining freed memory \(free heap top (\d+) MiB; (\d+) MiB reserved at start-up\)");
        Assert.True(m.Success, r.Out);
        Assert.True(int.Parse(m.Groups[2].Value) >= 128, r.Out);

        var plain = ChildCli.Run(new Dictionary<string, string> { ["EQUISHARP_NATIVE_ALLOCATOR"] = "default" }, "info");
        Assert.Contains("allocator    platform default", plain.Out);
    }
}
