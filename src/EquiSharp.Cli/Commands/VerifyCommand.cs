using System.CommandLine;
using EquiSharp.Verification;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp verify</c>: runs every built-in exactness check, one line each; exit code 1 on any failure.</summary>
public sealed class VerifyCommand : ICliCommand
{
    public Command Build()
    {
        var filter = new Option<string?>("--filter") { Description = "Only run checks whose name contains this text." };
        var command = new Command("verify", "Run the built-in equivariance and exactness checks of every layer.") { filter };
        command.SetAction(parse =>
        {
            string? f = parse.GetValue(filter);
            var checks = CheckRegistry.All().Where(c => f is null || c.Name.Contains(f, StringComparison.OrdinalIgnoreCase)).ToList();
            if (checks.Count == 0)
                throw new ArgumentException($"--filter {f}: no check's name contains this text (run 'equisharp verify' without --filter to list every check).");
            int width = checks.Count == 0 ? 0 : checks.Max(c => c.Name.Length);
            int failures = 0;
            foreach (var check in checks)
            {
                var r = check.Run();
                if (!r.Ok) failures++;
                string tail = r.Ok ? "ok" : r.Error is null ? "FAIL" : $"FAIL ({r.Error})";
                Console.WriteLine($"{r.Name.PadRight(width)}  max_dev={r.MaxDeviation:0.00e+00}  {tail}");
            }
            Console.WriteLine($"{checks.Count - failures} ok, {failures} failed");
            return failures == 0 ? 0 : 1;
        });
        return command;
    }
}
