using System.Diagnostics;
using System.Globalization;

namespace EquiSharp.Performance;

/// <summary>
/// Peak resident memory of a workload, measured in a child process of this executable so that each variant's peak is
/// its own (a process's VmHWM never goes down). The child prints a <see cref="PeakLine"/>; the parent reads it.
/// </summary>
public static class ProcessMemory
{
    private const string PeakKey = "vmhwm_kb=";

    /// <summary>Peak resident memory of this process so far (kB, from /proc/self/status; −1 where unavailable).</summary>
    public static long PeakResidentKb() => Runtime.PhaseLog.StatusKb("VmHWM:");

    /// <summary>The line a child prints last: <c>vmhwm_kb=&lt;peak&gt;</c>.</summary>
    public static string PeakLine() => PeakKey + PeakResidentKb().ToString(CultureInfo.InvariantCulture);

    /// <summary>The 1-minute load average (other processes compete for the cores; printed with every benchmark).</summary>
    public static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; } catch (IOException) { return "n/a"; }
    }

    /// <summary>
    /// Runs this executable again with <paramref name="arguments"/> and returns the peak (kB) the child reports with
    /// <see cref="PeakLine"/>.
    /// </summary>
    /// <param name="arguments">Command line of the child (the host's own command that runs one variant).</param>
    /// <param name="retainingAllocator">Keep the retaining native allocator (the CLI's default); otherwise the child runs under
    /// glibc's default allocator (<c>EQUISHARP_NATIVE_ALLOCATOR=default</c>), which returns freed memory, so VmHWM is the work's own peak.</param>
    public static long ChildPeakKb(IEnumerable<string> arguments, bool retainingAllocator) => RunChild(arguments, retainingAllocator).PeakKb;

    /// <summary>
    /// Runs this executable again with <paramref name="arguments"/>; returns its standard output and the peak (kB) it
    /// reports with <see cref="PeakLine"/>.
    /// </summary>
    public static (string Output, long PeakKb) RunChild(IEnumerable<string> arguments, bool retainingAllocator)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (!retainingAllocator) psi.Environment["EQUISHARP_NATIVE_ALLOCATOR"] = "default";
        else psi.Environment.Remove("EQUISHARP_NATIVE_ALLOCATOR");
        SelfCommand(psi);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var proc = Process.Start(psi)!;
        var stderrTask = proc.StandardError.ReadToEndAsync();
        string stdout = proc.StandardOutput.ReadToEnd();
        proc.WaitForExit();
        string stderr = stderrTask.Result;
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith(PeakKey, StringComparison.Ordinal));
        if (proc.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"benchmark child ({string.Join(' ', psi.ArgumentList)}) failed with exit code {proc.ExitCode}: {stderr.Trim()}");
        return (stdout, long.Parse(line[PeakKey.Length..].Trim(), CultureInfo.InvariantCulture));
    }

    /// <summary>Points <paramref name="psi"/> at this executable (under <c>dotnet EquiSharp.Cli.dll</c>: the host, then the entry assembly).</summary>
    public static void SelfCommand(ProcessStartInfo psi)
    {
        string exe = Environment.ProcessPath!;
        psi.FileName = exe;
        if (Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location);
    }

    /// <summary>The value of <c>key=value</c> in a child's output (null when absent).</summary>
    public static double? ReadValue(string output, string key)
    {
        foreach (var part in output.Split(new[] { '\n', ' ' }, StringSplitOptions.RemoveEmptyEntries))
            if (part.StartsWith(key + "=", StringComparison.Ordinal)
                && double.TryParse(part[(key.Length + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        return null;
    }
}
