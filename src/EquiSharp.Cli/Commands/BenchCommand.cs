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
public sealed partial class BenchCommand : ICliCommand
{
    public Command Build()
    {
        var bench = new Command("bench", "Benchmarks of the fast symmetric paths against dense baselines (ratios measured side by side in one run).");
        bench.Subcommands.Add(Generating());
        bench.Subcommands.Add(SymConv());
        bench.Subcommands.Add(AllCnn());
        bench.Subcommands.Add(Child());
        bench.Subcommands.Add(RnaStep());
        bench.Subcommands.Add(RnaStepChild());
        bench.Subcommands.Add(RnaProfile());
        bench.Subcommands.Add(RnaVsTorch());
        bench.Subcommands.Add(RnaInfer());
        bench.Subcommands.Add(RnaInferChild());
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

    /// <summary>
    /// The options that define an rna-step workload, shared by <c>bench rna-step</c>, its children and <c>bench
    /// rna-profile</c> (<paramref name="inProcess"/>: the work runs in this process, whose parts are timed, not in timed steps).
    /// </summary>
    private sealed class RnaStepOptions(bool inProcess = false)
    {
        private readonly Option<int> crop = Opt("--crop", "L: training crop (side of the maps).", 128);
        private readonly Option<int> batch = Opt("--batch", "B: sequences per step.", 4);
        private readonly Option<int> steps = Opt("--steps", "Timed training steps per child (after one warm-up step).", 5);
        private readonly Option<int> threads = Opt("--threads", inProcess
            ? "Intra-op threads (0 = TorchSharp's default; 1 makes CPU time the work's own on a shared machine)."
            : "Intra-op threads of the children (0 = TorchSharp's default; 1 measures the work itself on a loaded machine).", 0);
        private readonly Option<string> device = CommonOptions.Device();
        private readonly Option<int> seed = CommonOptions.Seed();

        public void AddTo(Command command)
        {
            foreach (var o in inProcess ? new Option[] { crop, batch, threads, device, seed } : new Option[] { crop, batch, steps, threads, device, seed })
                command.Options.Add(o);
        }

        public PairNetworkStepRun Read(ParseResult parse) =>
            new(parse.GetValue(crop), parse.GetValue(batch), parse.GetValue(steps), parse.GetValue(device)!, parse.GetValue(seed), parse.GetValue(threads));
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
            Console.WriteLine(Inv($"bench rna-step: crop={run.Crop} batch={run.Batch} steps={run.Steps} rounds={r} device={run.Device} threads={(run.Threads > 0 ? run.Threads : torch.get_num_threads())} load={ProcessMemory.LoadAverage()}"));
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

    private static Command RnaProfile()
    {
        var variant = new Option<string>("--variant") { Description = "scnn_packed, scnn_dense or cnn.", DefaultValueFactory = _ => "scnn_packed" };
        var repeats = Opt("--repeats", "Timed repeats of each part (medians).", 3);
        var shape = new RnaStepOptions(inProcess: true);
        var cmd = new Command("rna-profile", "Where a training step of the paper's RNA network (bench rna-step's workload) spends its time: forward and backward of each part run alone on its real input, medians in ms.")
            { variant, repeats };
        shape.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var run = shape.Read(parse);
            var dev = CommonOptions.ParseDevice(run.Device);
            if (run.Threads > 0) torch.set_num_threads(run.Threads);
            var work = new PairNetworkStepWorkload(parse.GetValue(variant)!, run.Crop, run.Batch, dev, run.Seed);
            Console.WriteLine(Inv($"bench rna-profile: variant={parse.GetValue(variant)} crop={run.Crop} batch={run.Batch} repeats={parse.GetValue(repeats)} threads={torch.get_num_threads()} load={ProcessMemory.LoadAverage()}"));
            work.Step();
            var rows = PairNetworkStepProfile.Run(work, parse.GetValue(repeats));
            Console.WriteLine($"| {"part",-46} | {"forward ms",10} | {"backward ms",11} | {"total ms",9} | {"CPU ms",8} |");
            Console.WriteLine($"|{new string('-', 48)}|{new string('-', 11)}:|{new string('-', 12)}:|{new string('-', 10)}:|{new string('-', 9)}:|");
            foreach (var p in rows)
                Console.WriteLine(Inv($"| {p.Name,-46} | {p.ForwardSeconds * 1e3,10:0.0} | {p.BackwardSeconds * 1e3,11:0.0} | {p.TotalSeconds * 1e3,9:0.0} | {p.CpuSeconds * 1e3,8:0.0} |"));
            Console.WriteLine(ProcessMemory.PeakLine());
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
            if (run.Threads > 0) torch.set_num_threads(run.Threads);
            Console.WriteLine(PairNetworkStepBenchmark.RunChild(run, CommonOptions.ParseDevice(run.Device), parse.GetValue(variant)!));
            Console.WriteLine(ProcessMemory.PeakLine());
            return 0;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ rna-vs-torch (whole processes, A B A B)

    private static Command RnaVsTorch()
    {
        var train = new Option<string>("--train") { Description = "Training file for both sides (e.g. ../shared/data/rna/16s-finaltrain.txt.gz).", Required = true };
        var valid = new Option<string?>("--valid") { Description = "Validation file for rna train's final report (the acceptance runs use a one-record file); none = no report." };
        var peer = new Option<string>("--peer") { Description = "The PyTorch peer script (../shared/peers/rna_dense_torch.py).", Required = true };
        var python = new Option<string>("--python") { Description = "Python with torch for the peer.", DefaultValueFactory = _ => "/usr/bin/python3" };
        var model = new Option<string>("--model") { Description = "rna train --model (scnn or cnn).", DefaultValueFactory = _ => "scnn" };
        var maps = new Option<string>("--maps") { Description = "rna train --maps (auto, dense or packed).", DefaultValueFactory = _ => "auto" };
        var crop = Opt("--crop", "Training crop of both sides.", 128);
        var batch = Opt("--batch", "Batch size of both sides.", 4);
        var steps = Opt("--steps", "Training steps of both sides (rna train --max-steps).", 10);
        var pairs = Opt("--pairs", "A B pairs (medians over them).", 3);
        var devFraction = new Option<double>("--dev-fraction") { Description = "rna train --dev-fraction.", DefaultValueFactory = _ => 0.01 };
        var cmd = new Command("rna-vs-torch", "Whole processes side by side: 'rna train' (A) and the PyTorch dense peer (B) with the same crop, batch and steps, A B A B, wall time from start to exit and peak resident memory of each, load printed. Last line: wall_ratio=<A/B> memory_ratio=<A/B> (medians).")
            { train, valid, peer, python, model, maps, crop, batch, steps, pairs, devFraction };
        cmd.SetAction(parse =>
        {
            string trainPath = Path.GetFullPath(parse.GetValue(train)!), peerPath = Path.GetFullPath(parse.GetValue(peer)!);
            string? validPath = parse.GetValue(valid) is string v ? Path.GetFullPath(v) : null;
            foreach (var f in new[] { trainPath, peerPath, validPath }.OfType<string>())
                if (!File.Exists(f)) throw new FileNotFoundException($"{f}: no such file.", f);
            string c = Inv($"{parse.GetValue(crop)}"), b = Inv($"{parse.GetValue(batch)}"), n = Inv($"{parse.GetValue(steps)}");
            string outDir = Path.Combine(Path.GetTempPath(), $"equisharp-rna-vs-torch-{Environment.ProcessId}");
            var ours = new List<string> { "rna", "train", "--train", trainPath, "--model", parse.GetValue(model)!, "--maps", parse.GetValue(maps)!,
                "--crop", c, "--batch", b, "--max-steps", n, "--dev-fraction", Inv($"{parse.GetValue(devFraction)}"), "--out", outDir };
            if (validPath is not null) ours.AddRange(new[] { "--valid", validPath });
            var a = ProcessCommand.Self("equisharp", ours);
            var peerCmd = new ProcessCommand("peer", parse.GetValue(python)!, new[] { peerPath, "--train", trainPath, "--steps", n, "--crop", c, "--batch", b });
            Console.WriteLine(Inv($"bench rna-vs-torch: crop={c} batch={b} steps={n} pairs={parse.GetValue(pairs)} load={ProcessMemory.LoadAverage()}"));
            Console.WriteLine($"A: {a}");
            Console.WriteLine($"B: {peerCmd}");
            try
            {
                var runs = WholeProcessComparison.Run(a, peerCmd, parse.GetValue(pairs), Environment.CurrentDirectory,
                    r => Console.WriteLine(Inv($"pair={r.Pair} {r.Name,-9} wall_s={r.WallSeconds,7:0.00} peak_mb={r.PeakKb / 1024.0,7:0.0} load_before={r.LoadBefore}")),
                    (command, _) => { if (command == a && Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true); });
                var (wa, ma) = WholeProcessComparison.Medians(runs, a.Name);
                var (wb, mb) = WholeProcessComparison.Medians(runs, peerCmd.Name);
                Console.WriteLine(Inv($"medians: equisharp wall_s={wa:0.00} peak_mb={ma / 1024:0.0}; peer wall_s={wb:0.00} peak_mb={mb / 1024:0.0}; load={ProcessMemory.LoadAverage()}"));
                Console.WriteLine(Inv($"wall_ratio={wa / wb:0.000} memory_ratio={ma / mb:0.000}"));
            }
            finally
            {
                if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
            }
            return 0;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ rna-infer (full-length inference per length)

    private static Command RnaInfer()
    {
        var lengths = new Option<string>("--lengths") { Description = "Comma-separated sequence lengths.", DefaultValueFactory = _ => "500,1000,2000,3000" };
        var variants = new Option<string>("--variants") { Description = "Comma-separated: streamed (what rna eval runs: row bands through the layers), packed (one whole folded map per layer), tiled (dense tiles).", DefaultValueFactory = _ => "streamed,packed,tiled" };
        var cmd = new Command("rna-infer", "Full-length inference of the paper's RNA SCNN (random weights) on one sequence per length, each in its own child process: seconds per sequence and peak resident memory.")
            { lengths, variants };
        cmd.SetAction(parse =>
        {
            var ls = parse.GetValue(lengths)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new ArgumentException($"--lengths: '{x}' is not a positive integer.")).ToList();
            var vs = parse.GetValue(variants)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            foreach (var v in vs)
                if (!PairNetworkInferenceBenchmark.Variants.Contains(v)) throw new ArgumentException($"--variants: unknown variant '{v}' (expected {string.Join(", ", PairNetworkInferenceBenchmark.Variants)}).");
            Console.WriteLine(Inv($"bench rna-infer: threads={torch.get_num_threads()} load={ProcessMemory.LoadAverage()}"));
            Console.WriteLine($"{"length",6}  {"variant",-7}  {"seconds",8}  {"peak_MB",8}");
            PairNetworkInferenceBenchmark.Run(ls, vs, new[] { "bench", "rna-infer-child" },
                r => Console.WriteLine(Inv($"{r.Length,6}  {r.Variant,-7}  {r.Seconds,8:0.00}  {r.PeakKb / 1024.0,8:0.0}")));
            return 0;
        });
        return cmd;
    }

    private static Command RnaInferChild()
    {
        var length = Opt("--length", "Sequence length.", 1000);
        var variant = new Option<string>("--variant") { Description = "packed or tiled.", DefaultValueFactory = _ => "packed" };
        var device = CommonOptions.Device();
        var cmd = new Command("rna-infer-child", "Internal: one full-length inference in this process; prints its seconds and peak resident memory.") { length, variant, device };
        cmd.Hidden = true;
        cmd.SetAction(parse =>
        {
            Console.WriteLine(PairNetworkInferenceBenchmark.RunChild(parse.GetValue(length), parse.GetValue(variant)!, CommonOptions.ParseDevice(parse.GetValue(device)!)));
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
