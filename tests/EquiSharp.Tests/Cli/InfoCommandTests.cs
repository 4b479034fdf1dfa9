using System.Text.RegularExpressions;

namespace EquiSharp.Tests.Cli;

/// <summary><c>equisharp info</c> as a user runs it: versions, and the native allocator the CLI set up at start-up.</summary>
public sealed class InfoCommandTests
{
    [LinuxFact]
    public void ReportsTheRetainingAllocatorWithItsFreeHeapTop()
    {
        // Without growth padding the start-up reserve is the only free heap top (0 MiB without it): 256 MiB minus what
        // loading libtorch took from it, so big tensors start in the heap whatever the heap did before. glibc grows the
        // main heap in place with brk; when the process's start-up has put a mapping just above the heap (it depends on
        // the address-space layout: seen under a test host, and for one build at some install paths), the reserve cannot
        // be made and `info` says so, naming the room the heap had. Passing: a reserve of at least 128 MiB, or a small
        // one explained by that note, in at least one of three processes. A build without the reserve (0 MiB with room
        // to grow, no note) fails every time, and so does a small reserve that the note does not explain.
        var outputs = new List<string>();
        bool ok = false;
        for (int attempt = 0; attempt < 3 && !ok; attempt++)
        {
            var r = ChildCli.Run(new Dictionary<string, string> { ["EQUISHARP_NATIVE_ALLOCATOR"] = "", ["EQUISHARP_MALLOC_TOP_PAD_MB"] = "0" }, "info");
            Assert.True(r.Code == 0, r.Err + r.Out);
            Assert.Contains("libtorch     2.10", r.Out);
            var m = Regex.Match(r.Out, @"allocator +retaining freed memory \(free heap top (\d+) MiB; (\d+) MiB reserved at start-up(; the heap could grow only (\d+) MiB in place: a mapping lies above it)?\)");
            Assert.True(m.Success, r.Out);
            outputs.Add(r.Out);
            int reserved = int.Parse(m.Groups[2].Value);
            ok = reserved >= 128 || (m.Groups[3].Success && int.Parse(m.Groups[4].Value) < 256);
        }
        Assert.True(ok, string.Join("\n---\n", outputs));

        var plain = ChildCli.Run(new Dictionary<string, string> { ["EQUISHARP_NATIVE_ALLOCATOR"] = "default" }, "info");
        Assert.Contains("allocator    platform default", plain.Out);
    }
}
