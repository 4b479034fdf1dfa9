using System.Diagnostics;
using System.Globalization;

namespace EquiSharp.Performance;

/// <summary>A command line to run as a whole process: executable, arguments, and environment overrides.</summary>
public sealed record ProcessCommand(string Name, string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>This executable with <paramref name="arguments"/> (under <c>dotnet EquiSharp.Cli.dll</c>: the host and the assembly).</summary>
    public static ProcessCommand Self(string name, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo();
        ProcessMemory.SelfCommand(psi);
        return new ProcessCommand(name, psi.FileName, psi.ArgumentList.Concat(arguments).ToList());
    }

    public override string ToString() => string.Join(' ', new[] { FileName }.Concat(Arguments));
}

/// <summary>One whole-process run: wall seconds (start to exit), peak resident memory (kB), the 1-minute load before it.</summary>
public sealed record ProcessRun(string Name, int Pair, double WallSeconds, long PeakKb, string LoadBefore);

/// <summary>
/// Whole processes side by side: A B A B …, each timed from start to exit and its peak
/// resident memory taken from the kernel's accounting when it exits (GNU time's maximum resident set size, i.e. wait4's
/// ru_maxrss), so start-up, data loading and evaluation all count, as they do for a user.
/// </summary>
public static class WholeProcessComparison
{
    /// <summary>GNU time, which reports the exited child's peak resident set from wait4.</summary>
    public const string TimeCommand = "/usr/bin/time";

    /// <param name="a">First command (run first in every pair).</param>
    /// <param name="b">Second command.</param>
    /// <param name="pairs">Number of A B pairs.</param>
    /// <param name="workingDirectory">Where both run.</param>
    /// <param name="runDone">Called after every run (e.g. to print it).</param>
    /// <param name="beforeRun">Called before every run with the command and its pair number (e.g. to clear an output directory).</param>
    public static IReadOnlyList<ProcessRun> Run(ProcessCommand a, ProcessCommand b, int pairs, string workingDirectory,
        Action<ProcessRun>? runDone = null, Action<ProcessCommand, int>? beforeRun = null)
    {
        if (!File.Exists(TimeCommand)) throw new FileNotFoundException($"{TimeCommand} not found: whole-process peak memory needs GNU time (apt-get install time).", TimeCommand);
        var runs = new List<ProcessRun>();
        for (int pair = 1; pair <= pairs; pair++)
            foreach (var cmd in new[] { a, b })
            {
                beforeRun?.Invoke(cmd, pair);
                var run = RunOne(cmd, pair, workingDirectory);
                runs.Add(run);
                runDone?.Invoke(run);
            }
        return runs;
    }

    private static ProcessRun RunOne(ProcessCommand cmd, int pair, string workingDirectory)
    {
        string load = ProcessMemory.LoadAverage();
        string peakFile = Path.GetTempFileName();
        try
        {
            var psi = new ProcessStartInfo(TimeCommand)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory,
            };
            foreach (var arg in new[] { "-f", "%M", "-o", peakFile, cmd.FileName }.Concat(cmd.Arguments)) psi.ArgumentList.Add(arg);
            var sw = Stopwatch.StartNew();
            using var proc = Process.Start(psi)!;
            var stderr = proc.StandardError.ReadToEndAsync();
            var stdout = proc.StandardOutput.ReadToEndAsync();
            proc.WaitForExit();
            double wall = sw.Elapsed.TotalSeconds;
            if (proc.ExitCode != 0)
                throw new InvalidOperationException($"{cmd.Name} ({cmd}) failed with exit code {proc.ExitCode}: {Tail(stderr.Result)}{Tail(stdout.Result)}");
            var text = File.ReadAllText(peakFile).Trim().Split('\n').Last().Trim();
            return new ProcessRun(cmd.Name, pair, wall, long.Parse(text, CultureInfo.InvariantCulture), load);
        }
        finally
        {
            File.Delete(peakFile);
        }
    }

    private static string Tail(string s) => s.Length <= 2000 ? s.Trim() : s[^2000..].Trim();

    /// <summary>Median wall time and median peak of one command's runs.</summary>
    public static (double WallSeconds, double PeakKb) Medians(IEnumerable<ProcessRun> runs, string name)
    {
        var mine = runs.Where(r => r.Name == name).ToList();
        return (SideBySideTimer.Median(mine.Select(r => r.WallSeconds).ToList()), SideBySideTimer.Median(mine.Select(r => (double)r.PeakKb).ToList()));
    }
}
