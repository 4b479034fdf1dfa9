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
return CommonOptions.Invoke(root, args);
