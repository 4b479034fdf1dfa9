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
        // The reserve is best effort: glibc grows the main heap with brk, and when address-space randomisation has put a
        // mapping just above the heap the growth moves elsewhere and no free top is left (seen under a test host, in
        // about one process of three; never from a shell). So the claim tested is that start-up reserves the top in
        // this environment at least once in three processes — a build without the reserve reports 0 every time.
        var outputs = new List<string>();
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var r = ChildCli.Run(new Dictionary<string, string> { ["EQUISHARP_NATIVE_ALLOCATOR"] = "", ["EQUISHARP_MALLOC_TOP_PAD_MB"] = "0" }, "info");
            Assert.True(r.Code == 0, r.Err + r.Out);
            Assert.Contains("libtorch     2.10", r.Out);
            var m = Regex.Match(r.Out, @"allocator +retaining freed memory \(free heap top (\d+) MiB; (\d+) MiB reserved at start-up\)");
            Assert.True(m.Success, r.Out);
            outputs.Add(r.Out);
            if (int.Parse(m.Groups[2].Value) >= 128) break;
        }
        Assert.True(outputs.Count < 3 || Regex.IsMatch(outputs[^1], @"(\d{3,}) MiB reserved") && int.Parse(Regex.Match(outputs[^1], @"(\d+) MiB reserved").Groups[1].Value) >= 128,
            string.Join("\n---\n", outputs));

        var plain = ChildCli.Run(new Dictionary<string, string> { ["EQUISHARP_NATIVE_ALLOCATOR"] = "default" }, "info");
        Assert.Contains("allocator    platform default", plain.Out);
    }
}
