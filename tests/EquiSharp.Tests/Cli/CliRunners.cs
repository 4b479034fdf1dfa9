using System.CommandLine;
using System.Diagnostics;
using EquiSharp.Cli;

namespace EquiSharp.Tests.Cli;

/// <summary>
/// Runs an <c>equisharp</c> command in this process with Console.Out and Console.Error captured. Console is global:
/// callers belong to a collection that never runs alongside another console-capturing test.
/// </summary>
internal static class InProcessCli
{
    public static (int Code, string Out, string Err) Run(ICliCommand command, params string[] args)
    {
        var root = new RootCommand("test") { command.Build() };
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            int code = CommonOptions.Invoke(root, args);   // the CLI's own error handling, as in Program
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}

/// <summary>Runs <c>equisharp</c> as a child process (what a user runs: Program's start-up and error handling included).</summary>
internal static class ChildCli
{
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "EquiSharp.Cli.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(300_000), $"equisharp {string.Join(' ', args)} did not finish");
        return (p.ExitCode, o, err.Result);
    }

    public static (int Code, string Out, string Err) Run(params string[] args) => Run(null, args);
}
