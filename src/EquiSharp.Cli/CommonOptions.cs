using System.CommandLine;
using EquiSharp.IO;
using TorchSharp;

namespace EquiSharp.Cli;

/// <summary>--checkpoint-every and --checkpoint-minutes, for any training command (the trainer's <see cref="EquiSharp.Training.CheckpointCadence"/>).</summary>
public sealed class CheckpointOptions
{
    public readonly Option<long?> EverySteps = new("--checkpoint-every") { Description = "Also checkpoint every N optimizer steps (besides every epoch end and --checkpoint-minutes)." };
    public readonly Option<double?> EveryMinutes = new("--checkpoint-minutes")
    {
        Description = "Also checkpoint when this many minutes have passed since the last checkpoint.",
        DefaultValueFactory = _ => EquiSharp.Training.CheckpointCadence.DefaultMinutes,
    };

    public void AddTo(Command command) { command.Options.Add(EverySteps); command.Options.Add(EveryMinutes); }

    /// <summary>The cadence given on the command line, checked (positive values).</summary>
    public EquiSharp.Training.CheckpointCadence Get(ParseResult parse) =>
        new EquiSharp.Training.CheckpointCadence { EverySteps = parse.GetValue(EverySteps), EveryMinutes = parse.GetValue(EveryMinutes) }.Validated();
}

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

    /// <summary>
    /// --threads: torch's CPU threads, an option of every command that trains or evaluates. <see cref="Invoke"/> applies
    /// it, before the command runs. 0 keeps torch's default; commands on many tiny tensors default to 1 (on 2 shared cores
    /// a 30-step Z2CNN run took 3.2 s of CPU with one thread and 14.7 s with two: the second thread mostly spins).
    /// </summary>
    public static Option<int> Threads(int defaultThreads = 0) => new ThreadsOption(defaultThreads);

    /// <summary>--max-cpu-hours: the compute budget of a training run (<c>TrainerOptions.MaxCpuHours</c>), an option of every command that trains with the shared loop.</summary>
    public static Option<double?> MaxCpuHours() => new("--max-cpu-hours")
    {
        Description = "Compute budget: stop when the run's processes have used this many CPU-hours in total (all threads, evaluation included, summed over resumed sessions); the last epoch is cut there and still evaluated.",
        Validators = { r => { if (r.GetValueOrDefault<double?>() is double h && !(h > 0)) r.AddError($"--max-cpu-hours {h}: expected a positive number."); } },
    };

    /// <summary>
    /// --conv: how pair networks compute their convolutions (auto, direct, fourier), an option of every command that
    /// builds or loads one; <see cref="Invoke"/> applies it (<see cref="EquiSharp.Layers.ConvolutionAlgorithms.Default"/>)
    /// before the command runs. Every choice computes the same function; auto takes the faster per kernel size.
    /// </summary>
    public static Option<string> Convolution() => new ConvolutionOption();

    private sealed class ConvolutionOption : Option<string>
    {
        public ConvolutionOption() : base("--conv")
        {
            Description = "Pair convolutions: auto (FFTs for kernels 9x9 and wider, where they measured faster), direct or fourier. Same results up to fp32 rounding.";
            DefaultValueFactory = _ => "auto";
            Validators.Add(r =>
            {
                try { EquiSharp.Layers.ConvolutionAlgorithms.Parse(r.GetValueOrDefault<string>()); }
                catch (ArgumentException e) { r.AddError("--conv: " + e.Message); }
            });
        }

        /// <summary>Sets the default algorithm if the parsed command has --conv (given or by default).</summary>
        public static void ApplyTo(ParseResult parse)
        {
            if (OptionOfInvokedCommand<ConvolutionOption>(parse) is not ConvolutionOption option) return;
            EquiSharp.Layers.ConvolutionAlgorithms.Default = EquiSharp.Layers.ConvolutionAlgorithms.Parse(parse.GetValue(option)!);
        }
    }

    /// <summary>The parsed command's option of type <typeparamref name="T"/> when the command itself is about to run (not for --help or a parse error), else null.</summary>
    private static T? OptionOfInvokedCommand<T>(ParseResult parse) where T : Option =>
        parse.Errors.Count > 0 || parse.Action != parse.CommandResult.Command.Action ? null : parse.CommandResult.Command.Options.OfType<T>().FirstOrDefault();

    private sealed class ThreadsOption : Option<int>
    {
        public ThreadsOption(int defaultThreads) : base("--threads")
        {
            Description = "Torch CPU threads (0 keeps torch's default; the count is process-wide).";
            DefaultValueFactory = _ => defaultThreads;
        }

        /// <summary>Sets torch's thread count if the parsed command has --threads (given or by default).</summary>
        public static void ApplyTo(ParseResult parse)
        {
            if (OptionOfInvokedCommand<ThreadsOption>(parse) is not ThreadsOption option) return;
            int n = parse.GetValue(option);
            if (n < 0) throw new ArgumentException($"--threads {n}: expected 0 (torch's default) or a positive number.");
            if (n > 0) torch.set_num_threads(n);
        }
    }

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

    /// <summary>The run directory of a training command: --resume DIR, or --out DIR for a new run (both given: they must agree).</summary>
    public static string RunDirectory(string? resumeDir, string? outDir)
    {
        if (resumeDir is not null && outDir is not null && Path.GetFullPath(resumeDir) != Path.GetFullPath(outDir))
            throw new ArgumentException($"--resume {resumeDir} and --out {outDir} differ; a resumed run continues in its own directory.");
        return resumeDir ?? outDir ?? throw new ArgumentException("--out (or --resume DIR) is required.");
    }

    /// <summary>
    /// The last line of a training command: steps, epochs, seconds, the best selection score (<paramref name="scoreName"/>,
    /// e.g. "dev acc") and its epoch, why it stopped, where the model is. Its exit code: 130 when interrupted, else 0.
    /// </summary>
    public static int ReportFinished(EquiSharp.Training.TrainingResult fit, string scoreName, string dir)
    {
        var s = fit.State;
        Console.WriteLine(FormattableString.Invariant(
            $"finished: {s.Step} steps, {s.History.Count} epochs, {s.TrainSeconds:0} s, best {scoreName}={(s.BestEpoch > 0 ? s.BestScore : double.NaN):0.0000} at epoch {s.BestEpoch}, stop: {(fit.Interrupted ? "interrupted" : fit.ReachedMaxSteps ? fit.Cap : s.StopReason)}; model in {Path.GetFullPath(dir)}"));
        return fit.Interrupted ? 130 : 0;
    }

    /// <summary>A count option's value, checked to be positive (the message names the option).</summary>
    public static int Positive(int value, string option) =>
        value > 0 ? value : throw new ArgumentException($"{option} {value}: expected a positive number.");

    /// <summary>The names of the options given on the command line (not left at their defaults), e.g. for a resume policy.</summary>
    public static IReadOnlySet<string> GivenOptions(ParseResult parse, Command command) =>
        command.Options.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToHashSet();

    /// <summary>
    /// Parses and runs a command line — the one place errors are handled for every command: bad input (options, files,
    /// formats) ends as "error: …" on stderr and exit code 1; anything else is a bug, printed with its stack trace, exit
    /// code 70 (EX_SOFTWARE). Used by Program and by the in-process command tests.
    /// </summary>
    public static int Invoke(Command root, string[] args)
    {
        try
        {
            var parse = root.Parse(args);
            ThreadsOption.ApplyTo(parse);
            ConvolutionOption.ApplyTo(parse);
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"internal error (a bug in EquiSharp; please report it with this trace): {e}");
            return 70;
        }
    }

    /// <summary>Bad input (options, files, formats) rather than a bug.</summary>
    private static bool IsUserError(Exception e) =>
        e is ArgumentException or IOException or InvalidDataException or InputFormatException or UnauthorizedAccessException;
}
