using System.CommandLine;
using TorchSharp;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp info</c>: versions, threads and devices.</summary>
public sealed class InfoCommand : ICliCommand
{
    public Command Build()
    {
        var command = new Command("info", "Print EquiSharp, TorchSharp and libtorch versions, threads and devices.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"EquiSharp    {typeof(EquiSharp.Symmetry.WeightSymmetry).Assembly.GetName().Version}");
            Console.WriteLine($"TorchSharp   {typeof(torch).Assembly.GetName().Version}");
            Console.WriteLine($"libtorch     {torch.__version__}");
            Console.WriteLine($"threads      {torch.get_num_threads()}");
            long? top = EquiSharp.Runtime.NativeAllocator.FreeHeapTopBytes();
            Console.WriteLine("allocator    " + (EquiSharp.Runtime.NativeAllocator.Retaining
                ? $"retaining freed memory (free heap top {(top ?? 0) >> 20} MiB; {(EquiSharp.Runtime.NativeAllocator.ReservedTopBytes ?? 0) >> 20} MiB reserved at start-up{HeapRoomNote()})"
                : "platform default (EQUISHARP_NATIVE_ALLOCATOR=default, or not glibc)"));
            Console.WriteLine($"cuda         {(torch.cuda.is_available() ? $"available ({torch.cuda.device_count()} devices)" : "not available")}");
            Console.WriteLine($"device       {(torch.cuda.is_available() ? "cuda" : "cpu")}");
            return 0;
        });
        return command;
    }

    /// <summary>Why a reserve came out small: the heap had less room to grow in place than the reserve needs.</summary>
    private static string HeapRoomNote()
    {
        long? room = EquiSharp.Runtime.NativeAllocator.HeapRoomBeforeReserve;
        return room is long r && r < EquiSharp.Runtime.NativeAllocator.TargetReserveBytes
            ? $"; the heap could grow only {r >> 20} MiB in place: a mapping lies above it"
            : "";
    }

}
