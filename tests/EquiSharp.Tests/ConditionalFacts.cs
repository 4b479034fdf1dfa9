namespace EquiSharp.Tests;

/// <summary>A fact that only means something on Linux: elsewhere it is reported as skipped (not as passed).</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux (glibc's allocator and /proc)";
    }
}

/// <summary>
/// A fact about the retaining native allocator: reported as skipped off Linux and when the run opted out of it with
/// EQUISHARP_NATIVE_ALLOCATOR=default.
/// </summary>
public sealed class RetainingAllocatorFactAttribute : FactAttribute
{
    public RetainingAllocatorFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux (glibc's mallopt)";
        else if (EquiSharp.Runtime.NativeAllocator.DefaultsRequested)
            Skip = "EQUISHARP_NATIVE_ALLOCATOR=default turns the retaining allocator off for this run";
    }
}

/// <summary>A fact that runs cd-hit-est (Debian package cd-hit): reported as skipped, with the reason, when it is not installed.</summary>
public sealed class CdHitFactAttribute : FactAttribute
{
    public CdHitFactAttribute()
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "cd-hit-est")));
        if (!found) Skip = "cd-hit-est is not installed (apt-get install cd-hit); .ci/run installs it";
    }
}
