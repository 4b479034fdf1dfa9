using System.CommandLine;
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
            int code = root.Parse(args).Invoke();
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
