using System.CommandLine;
using System.Globalization;
using EquiSharp.Cli;

// Numbers are always printed with the invariant culture (acc=0.87, never acc=0,87).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// Reuse freed native memory instead of page-faulting fresh mmaps for every large tensor (see NativeAllocator), and
// serve tensors from an arena that keeps little more than the live ones resident (see TorchCpuAllocator).
EquiSharp.Runtime.NativeAllocator.RetainFreedMemory();
if (args.Length > 0 && !args.Any(a => a is "-h" or "--help" or "-?" or "--version"))   // installing loads libtorch (0.25 s); help needs none
{
    EquiSharp.Runtime.TorchCpuAllocator.InstallFromEnvironment();
    // oneDNN's float32 convolution gradient is wrong on some CPUs: checked once, libtorch's own kernels used there
    if (EquiSharp.Runtime.ConvolutionKernelGuard.Ensure())
        Console.Error.WriteLine($"note: oneDNN's float32 convolution gradient is wrong on this CPU (relative error " +
            $"{EquiSharp.Runtime.ConvolutionKernelGuard.DeviationWithOneDnn?.ToString("0.00") ?? "not measured"}); using libtorch's own convolution kernels (EQUISHARP_MKLDNN=1 keeps oneDNN)");
}

var root = new RootCommand("EquiSharp: symmetry-structured and equivariant neural networks on TorchSharp.");
foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
return CommonOptions.Invoke(root, args);
