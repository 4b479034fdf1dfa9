using System.CommandLine;
using EquiSharp.Rna.Formats;
using TorchSharp;

namespace EquiSharp.Cli;

/// <summary>Options and helpers shared by several commands (one place for each).</summary>
public static class CommonOptions
{
    /// <summary>--device: cpu, cuda, cuda:1, … (never hard-coded CPU).</summary>
    public static Option<string> Device() => new("--device")
    {
        Description = "Device to run on: cpu, cuda, cuda:N (a CUDA build of TorchSharp is needed for cuda).",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>--seed.</summary>
    public static Option<int> Seed(int defaultValue = 1) => new("--seed")
    {
        Description = "Random seed (data order, initialisation, dropout).",
        DefaultValueFactory = _ => defaultValue,
    };

    /// <summary>Parses a device string with a clear error.</summary>
    public static torch.Device ParseDevice(string text)
    {
        try
        {
            var device = torch.device(text);
            if (device.type == DeviceType.CUDA && !torch.cuda.is_available())
                throw new ArgumentException($"--device {text}: CUDA is not available in this TorchSharp build (TorchSharp-cpu); use --device cpu.");
            return device;
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            throw new ArgumentException($"--device {text}: not a device name (expected cpu, cuda or cuda:N).", e);
        }
    }

    /// <summary>
    /// Runs a command's action and turns bad input (options, files, formats) into "error: …" on stderr and exit code 1,
    /// instead of a stack trace; anything else is a bug and propagates.
    /// </summary>
    public static int Guarded(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsUserError(e))
        {
            return ReportUserError(e);
        }
    }

    /// <summary>Bad input (options, files, formats) rather than a bug: reported as a one-line message.</summary>
    public static bool IsUserError(Exception e) =>
        e is ArgumentException or IOException or InvalidDataException or RnaFormatException or UnauthorizedAccessException;

    /// <summary>Prints "error: …" on stderr; returns the exit code for bad input (1).</summary>
    public static int ReportUserError(Exception e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}
