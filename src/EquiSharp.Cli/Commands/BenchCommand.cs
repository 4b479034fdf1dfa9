using System.CommandLine;
using System.Globalization;
using EquiSharp.Performance;
using EquiSharp.Training;
using TorchSharp;

namespace EquiSharp.Cli.Commands;

/// <summary>
/// <c>equisharp bench</c>: side-by-side timings (alternating variants in one run, medians after warm-up) and
/// child-process peak memory of the symmetric-map fast paths against their dense baselines.
/// </summary>
public sealed class BenchCommand : ICliCommand
{
    public Command Build()
    {
        var bench = new Command("bench", "Benchmarks of the fast symmetric paths against dense baselines (ratios measured side by side in one run).");
        bench.Subcommands.Add(Generating());
        bench.Subcommands.Add(SymConv());
        bench.Subcommands.Add(Child());
        bench.Subcommands.Add(RnaStep());
        bench.Subcommands.Add(RnaStepChild());
        return bench;
    }

    private static Option<int> Opt(string name, string description, int defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    // ------------------------------------------------------------------ generating

    private static Command Generating()
    {
        var length = Opt("--length", "L: sequence length.", 512);
        var inF = Opt("--in", "n: per-position features (the dense layer's input has 2n channels).", 20);
        var outF = Opt("--out", "F: output feature maps.", 40);
        var kernel = Opt("--kernel", "C: odd kernel size.", 1);
        var batch = Opt("--batch", "B: batch size.", 1);
        // the separable step takes ~5 ms: enough warm-up for every heap block it uses to have been touched once
        var repeats = Opt("--repeats", "Timed repeats per variant (median reported).", 21);
        var warmup = Opt("--warmup", "Untimed warm-up runs per variant.", 5);
        var plain = new Option<bool>("--plain") { Description = "Also time the unfused separable variant (plain autograd ops)." };
        var packedOut = new Option<bool>("--packed") { Description = "Also time the separable layer writing packed symmetric maps (default folded layout)." };
        var device = CommonOptions.Device();
        var seed = CommonOptions.Seed();
        var threads = Opt("--threads", "Intra-op threads (0 = TorchSharp's default).", 0);
        var cmd = new Command("generating", "Symmetry-generating layer, forward+backward: separable (no self-Cartesian product) vs dense (materialised product + conv with ToDense() weight). Last line: speedup=<dense/separable>.")
            { length, inF, outF, kernel, batch, repeats, warmup, plain, packedOut, threads, device, seed };
        cmd.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            if (parse.GetValue(threads) > 0) torch.set_num_threads(parse.GetValue(threads));
            long l = parse.GetValue(length), n = parse.GetValue(inF), f = parse.GetValue(outF), k = parse.GetValue(kernel), b = parse.GetValue(batch);
            int reps = parse.GetValue(repeats), warm = parse.GetValue(warmup);
            var work = new GeneratingWorkload(l, n, f, k, b, dev, parse.GetValue(seed));
            bool withPlain = parse.GetValue(plain), withPacked = parse.GetValue(packedOut);
            Console.WriteLine($"bench generating: L={l} n={n} (2n={2 * n} channels) F={f} kernel={k} batch={b} device={dev.type} threads={torch.get_num_threads()} repeats={reps} warmup={warm} load={ProcessMemory.LoadAverage()}");
            var result = ProgressDisplay.Run(progress =>
            {
                progress.Start("bench generating", SideBySideTimer.RunCount(GeneratingBenchmark.Variants(withPlain, withPacked).Count, reps, warm));
                return GeneratingBenchmark.Run(work, withPlain, withPacked, reps, warm, dev, step => progress.Step(step, double.NaN));
            });
            PrintTimeTable(result.Variants, result.Timing);
            Console.WriteLine(Inv($"speedup={result.Speedup:0.00}"));
            return 0;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ symconv (packed maps)

    private static Command SymConv()
    {
        var shape = new SymConvOptions();
        var repeats = Opt("--repeats", "Timed repeats per variant (median reported).", 9);
        var warmup = Opt("--warmup", "Untimed warm-up runs per variant.", 1);
        var noMemory = new Option<bool>("--no-memory") { Description = "Skip the child-process peak-memory measurement." };
        var threads = Opt("--threads", "Intra-op threads (0 = TorchSharp's default).", 0);
        var cmd = new Command("symconv", "Stack of symmetry-preserving convs with BN and ReLU, forward+backward: packed vs dense (alternating runs; peak memory of each in its own child process). Last line: time_ratio=<packed/dense> memory_ratio=<packed/dense>.")
            { repeats, warmup, noMemory, threads };
        shape.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var run = shape.Read(parse);
            var spec = run.Spec;
            int reps = parse.GetValue(repeats), warm = parse.GetValue(warmup);
            var dev = CommonOptions.ParseDevice(run.Device);
            if (parse.GetValue(threads) > 0) torch.set_num_threads(parse.GetValue(threads));
            bool measureMemory = !parse.GetValue(noMemory);
            Console.WriteLine(Inv($"bench symconv: L={spec.Length} channels={spec.Channels} kernel={spec.Kernel} layers={spec.Layers} batch={spec.Batch} layout={spec.MakeLayout().Describe()} device={dev.type} threads={torch.get_num_threads()} repeats={reps} warmup={warm} load={ProcessMemory.LoadAverage()}"));
            var r = ProgressDisplay.Run(progress =>
            {
                progress.Start("bench symconv", SymmetricConvBenchmark.StepCount(reps, warm, measureMemory));
                return SymmetricConvBenchmark.Run(run, dev, reps, warm, measureMemory ? ChildCommand : null, step => progress.Step(step, double.NaN));
            });
            Console.WriteLine($"{"variant",-8}  {"median_ms",10}  {"min_ms",8}  {"peak_MB",9}  {"work_MB",9}  {"work_MB_retaining",17}");
            foreach (var v in SymmetricConvBenchmark.TimedVariants)
            {
                string mem = r.PeakKb is null ? $"{"-",9}  {"-",9}  {"-",17}"
                    : Inv($"{r.PeakKb[v] / 1024.0,9:0.0}  {SymmetricConvResult.WorkKb(r.PeakKb, v) / 1024.0,9:0.0}  {SymmetricConvResult.WorkKb(r.RetainingPeakKb!, v) / 1024.0,17:0.0}");
                Console.WriteLine(Inv($"{v,-8}  {r.Timing[v].MedianSeconds * 1e3,10:0.0}  {r.Timing[v].MinSeconds * 1e3,8:0.0}  ") + mem);
            }
            if (r.PeakKb is not null)
            {
                Console.WriteLine(Inv($"{"idle",-8}  {"-",10}  {"-",8}  {r.PeakKb["idle"] / 1024.0,9:0.0}  {0.0,9:0.0}  {0.0,17:0.0}"));
                Console.WriteLine(Inv($"memory_ratio with the retaining allocator (EQUISHARP_NATIVE_ALLOCATOR unset): {r.RetainingMemoryRatio:0.000}"));
            }
            string memRatio = r.PeakKb is null ? "nan" : Inv($"{r.MemoryRatio:0.000}");
            Console.WriteLine(Inv($"time_ratio={r.TimeRatio:0.000} memory_ratio=") + memRatio);
            return 0;
        });
        return cmd;
    }

    /// <summary>This CLI's command that runs one memory child (<see cref="Child"/>).</summary>
    private static readonly string[] ChildCommand = { "bench", "child", "--task", "symconv" };

    /// <summary>The options that define a symconv workload, shared by <c>bench symconv</c> and its memory children.</summary>
    private sealed class SymConvOptions
    {
        private readonly Option<int> length = Opt("--length", "L: side of the symmetric maps.", 512);
        private readonly Option<int> channels = Opt("--channels", "Channels of every layer.", 32);
        private readonly Option<int> kernel = Opt("--kernel", "Odd kernel size of every preserving conv.", 5);
        private readonly Option<int> layers = Opt("--layers", "Number of conv+BN+ReLU layers.", 4);
        private readonly Option<int> batch = Opt("--batch", "B: batch size.", 2);
        private readonly Option<string> layout = new("--layout") { Description = "Packed layout: folded (default), folded-nomargin or tiled.", DefaultValueFactory = _ => "folded" };
        private readonly Option<int> tile = Opt("--tile", "Tile side of the tiled layout (0 = default for L).", 0);
        private readonly Option<string> device = CommonOptions.Device();
        private readonly Option<int> seed = CommonOptions.Seed();

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { length, channels, kernel, layers, batch, layout, tile, device, seed }) command.Options.Add(o);
        }

        public SymmetricConvRun Read(ParseResult parse) => new(new SymmetricConvSpec(parse.GetValue(length), parse.GetValue(channels), parse.GetValue(kernel),
            parse.GetValue(layers), parse.GetValue(batch), parse.GetValue(layout)!, parse.GetValue(tile)), parse.GetValue(device)!, parse.GetValue(seed));
    }

    // ------------------------------------------------------------------ child process for peak memory

    private static Command Child()
    {
        var task = new Option<string>("--task") { Description = "What to run (internal): symconv.", DefaultValueFactory = _ => "symconv" };
        var variant = new Option<string>("--variant") { Description = "idle, dense or packed.", DefaultValueFactory = _ => "idle" };
        var shape = new SymConvOptions();
        var cmd = new Command("child", "Internal: runs one benchmark variant in this process and prints its peak resident memory (VmHWM).")
            { task, variant };
        shape.AddTo(cmd);
        cmd.Hidden = true;
        cmd.SetAction(parse =>
        {
            var run = shape.Read(parse);
            var dev = CommonOptions.ParseDevice(run.Device);
            if (parse.GetValue(task) != "symconv") throw new ArgumentException("bench child: unknown --task (expected symconv).");
            SymmetricConvBenchmark.RunChild(run, dev, parse.GetValue(variant)!);
            Console.WriteLine(ProcessMemory.PeakLine());
            return 0;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ rna-step (whole training steps, one child per variant)

    /// <summary>The options that define an rna-step workload, shared by <c>bench rna-step</c> and its children.</summary>
    private sealed class RnaStepOptions
    {
        private readonly Option<int> crop = Opt("--crop", "L: training crop (side of the maps).", 128);
        private readonly Option<int> batch = Opt("--batch", "B: sequences per step.", 4);
        private readonly Option<int> steps = Opt("--steps", "Timed training steps per child (after one warm-up step).", 5);
        private readonly Option<string> device = CommonOptions.Device();
        private readonly Option<int> seed = CommonOptions.Seed();

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { crop, batch, steps, device, seed }) command.Options.Add(o);
        }

        public PairNetworkStepRun Read(ParseResult parse) =>
            new(parse.GetValue(crop), parse.GetValue(batch), parse.GetValue(steps), parse.GetValue(device)!, parse.GetValue(seed));
    }

    private static Command RnaStep()
    {
        var shape = new RnaStepOptions();
        var rounds = Opt("--rounds", "Children per variant, alternating (medians over them).", 1);
        var variants = new Option<string>("--variants") { Description = "Comma-separated subset of scnn_packed, scnn_dense, cnn.", DefaultValueFactory = _ => string.Join(",", PairNetworkStepWorkload.Variants) };
        var cmd = new Command("rna-step", "Training steps of the paper's RNA network on synthetic data (forward, loss, backward, Adam), each variant in its own child process: seconds per step and peak resident memory. Last line: scnn_packed_s_per_step=<x> scnn_dense_s_per_step=<x> cnn_s_per_step=<x> scnn_packed_peak_mb=<x>.")
            { rounds, variants };
        shape.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var run = shape.Read(parse);
            CommonOptions.ParseDevice(run.Device);
            var chosen = parse.GetValue(variants)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var v in chosen)
                if (!PairNetworkStepWorkload.Variants.Contains(v)) throw new ArgumentException($"--variants: unknown variant '{v}' (expected {string.Join(", ", PairNetworkStepWorkload.Variants)}).");
            int r = parse.GetValue(rounds);
            if (r < 1 || run.Steps < 1) throw new ArgumentException("--rounds and --steps must be at least 1.");
            Console.WriteLine(Inv($"bench rna-step: crop={run.Crop} batch={run.Batch} steps={run.Steps} rounds={r} device={run.Device} threads={torch.get_num_threads()} load={ProcessMemory.LoadAverage()}"));
            var results = ProgressDisplay.Run(progress =>
            {
                progress.Start("bench rna-step", (long)r * chosen.Length);
                return PairNetworkStepBenchmark.Run(run, r, RnaStepChildCommand, chosen, step => progress.Step(step, double.NaN));
            });
            Console.WriteLine($"{"variant",-12}  {"s_per_step",10}  {"min_s",8}  {"peak_MB",8}  {"last_loss",10}");
            foreach (var x in results)
                Console.WriteLine(Inv($"{x.Variant,-12}  {x.SecondsPerStep,10:0.000}  {x.MinSecondsPerStep,8:0.000}  {x.PeakKb / 1024.0,8:0.0}  {x.Loss,10:0.0000}"));
            string Value(string v, Func<PairNetworkStepResult, string> f) => results.FirstOrDefault(x => x.Variant == v) is { } x ? f(x) : "nan";
            Console.WriteLine(string.Join(' ', PairNetworkStepWorkload.Variants.Select(v => $"{v}_s_per_step=" + Value(v, x => Inv($"{x.SecondsPerStep:0.000}"))))
                + " scnn_packed_peak_mb=" + Value("scnn_packed", x => Inv($"{x.PeakKb / 1024.0:0.0}")));
            return 0;
        });
        return cmd;
    }

    /// <summary>This CLI's command that runs one rna-step child (<see cref="RnaStepChild"/>).</summary>
    private static readonly string[] RnaStepChildCommand = { "bench", "rna-step-child" };

    private static Command RnaStepChild()
    {
        var variant = new Option<string>("--variant") { Description = "scnn_packed, scnn_dense or cnn.", DefaultValueFactory = _ => "scnn_packed" };
        var shape = new RnaStepOptions();
        var cmd = new Command("rna-step-child", "Internal: trains one rna-step variant in this process and prints seconds per step and its peak resident memory (VmHWM).")
            { variant };
        shape.AddTo(cmd);
        cmd.Hidden = true;
        cmd.SetAction(parse =>
        {
            var run = shape.Read(parse);
            Console.WriteLine(PairNetworkStepBenchmark.RunChild(run, CommonOptions.ParseDevice(run.Device), parse.GetValue(variant)!));
            Console.WriteLine(ProcessMemory.PeakLine());
            return 0;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ helpers

    private static void PrintTimeTable(IReadOnlyList<string> names, IReadOnlyDictionary<string, VariantTiming> timing)
    {
        int w = Math.Max(8, names.Max(n => n.Length));
        Console.WriteLine($"{"variant".PadRight(w)}  {"median_ms",10}  {"min_ms",8}  {"vs_" + names[0],10}");
        foreach (var name in names)
            Console.WriteLine(Inv($"{name.PadRight(w)}  {timing[name].MedianSeconds * 1e3,10:0.0}  {timing[name].MinSeconds * 1e3,8:0.0}  {timing[names[0]].MedianSeconds / timing[name].MedianSeconds,10:0.00}"));
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
