using System.CommandLine;
using System.Globalization;
using EquiSharp.Cli;

// Numbers are always printed with the invariant culture (acc=0.87, never acc=0,87).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// Reuse freed native memory instead of page-faulting fresh mmaps for every large tensor (see NativeAllocator).
EquiSharp.Runtime.NativeAllocator.RetainFreedMemory();

var root = new RootCommand("EquiSharp: symmetry-structured and equivariant neural networks on TorchSharp.");
foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
// Bad input in any command ends as "error: …" and exit code 1 (commands that read files guard themselves the same way);
// anything else is a bug: full stack trace and exit code 70 (EX_SOFTWARE).
try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (EquiSharp.Cli.CommonOptions.IsUserError(e))
{
    return EquiSharp.Cli.CommonOptions.ReportUserError(e);
}
catch (Exception e)
{
    Console.Error.WriteLine($"internal error (a bug in EquiSharp; please report it with this trace): {e}");
    return 70;
}
