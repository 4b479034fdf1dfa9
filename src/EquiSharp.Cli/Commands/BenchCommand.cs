using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EquiSharp.Performance;
using EquiSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

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
            var variants = new List<(string Name, Action Run)> { ("dense", work.RunDense), ("separable", work.RunSeparable) };
            if (parse.GetValue(plain)) variants.Add(("separable-plain", work.RunSeparablePlain));
            if (parse.GetValue(packedOut)) variants.Add(("separable-packed", work.RunSeparablePacked));

            Console.WriteLine($"bench generating: L={l} n={n} (2n={2 * n} channels) F={f} kernel={k} batch={b} device={dev.type} threads={torch.get_num_threads()} repeats={reps} warmup={warm} load={LoadAverage()}");
            var timing = ProgressDisplay.Run(progress =>
            {
                progress.Start("bench generating", SideBySideTimer.RunCount(variants.Count, reps, warm));
                return SideBySideTimer.Run(variants, reps, warm, dev, progress);
            });
            PrintTimeTable(variants.Select(v => v.Name).ToList(), timing);
            Console.WriteLine(Inv($"speedup={timing["dense"].MedianSeconds / timing["separable"].MedianSeconds:0.00}"));
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
            var work = new SymmetricConvWorkload(spec, dev, SymmetricConvWorkload.Keep.Both, run.Seed);
            Console.WriteLine(Inv($"bench symconv: L={spec.Length} channels={spec.Channels} kernel={spec.Kernel} layers={spec.Layers} batch={spec.Batch} layout={work.Layout.Describe()} device={dev.type} threads={torch.get_num_threads()} repeats={reps} warmup={warm} load={LoadAverage()}"));
            var variants = new List<(string Name, Action Run)> { ("dense", work.RunDense), ("packed", work.RunPacked) };
            bool measureMemory = !parse.GetValue(noMemory);
            var memoryVariants = new[] { "idle", "dense", "packed" };
            Dictionary<string, long>? peak = measureMemory ? new() : null, retained = measureMemory ? new() : null;
            var timing = ProgressDisplay.Run(progress =>
            {
                long timedRuns = SideBySideTimer.RunCount(variants.Count, reps, warm);
                progress.Start("bench symconv", timedRuns + (measureMemory ? 2 * memoryVariants.Length : 0));
                var t = SideBySideTimer.Run(variants, reps, warm, dev, progress);
                // Memory: each variant alone in a child process, under glibc's default allocator (freed memory is returned,
                // so VmHWM is the work's own peak), and again under the CLI's retaining allocator (faster, but freed blocks
                // stay resident and fragment, which inflates VmHWM differently per variant) — both printed, the first is the ratio.
                long step = timedRuns;
                if (measureMemory)
                    foreach (var v in memoryVariants)
                    {
                        peak![v] = ChildPeakKb(run, v, retainingAllocator: false);
                        progress.Step(++step, double.NaN);
                        retained![v] = ChildPeakKb(run, v, retainingAllocator: true);
                        progress.Step(++step, double.NaN);
                    }
                return t;
            });
            Console.WriteLine($"{"variant",-8}  {"median_ms",10}  {"min_ms",8}  {"peak_MB",9}  {"work_MB",9}  {"work_MB_retaining",17}");
            foreach (var v in new[] { "dense", "packed" })
            {
                string mem = peak is null ? $"{"-",9}  {"-",9}  {"-",17}" : Inv($"{peak[v] / 1024.0,9:0.0}  {(peak[v] - peak["idle"]) / 1024.0,9:0.0}  {(retained![v] - retained["idle"]) / 1024.0,17:0.0}");
                Console.WriteLine(Inv($"{v,-8}  {timing[v].MedianSeconds * 1e3,10:0.0}  {timing[v].MinSeconds * 1e3,8:0.0}  ") + mem);
            }
            if (peak is not null)
            {
                Console.WriteLine(Inv($"{"idle",-8}  {"-",10}  {"-",8}  {peak["idle"] / 1024.0,9:0.0}  {0.0,9:0.0}  {0.0,17:0.0}"));
                Console.WriteLine(Inv($"memory_ratio with the retaining allocator (EQUISHARP_NATIVE_ALLOCATOR unset): {(double)(retained!["packed"] - retained["idle"]) / (retained["dense"] - retained["idle"]):0.000}"));
            }
            string memRatio = peak is null ? "nan" : Inv($"{(double)(peak["packed"] - peak["idle"]) / (peak["dense"] - peak["idle"]):0.000}");
            Console.WriteLine(Inv($"time_ratio={timing["packed"].MedianSeconds / timing["dense"].MedianSeconds:0.000} memory_ratio=") + memRatio);
            return 0;
        });
        return cmd;
    }

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

        public SymConvRun Read(ParseResult parse) => new(new SymmetricConvSpec(parse.GetValue(length), parse.GetValue(channels), parse.GetValue(kernel),
            parse.GetValue(layers), parse.GetValue(batch), parse.GetValue(layout)!, parse.GetValue(tile)), parse.GetValue(device)!, parse.GetValue(seed));
    }

    /// <summary>A symconv benchmark as the command line gives it (the child processes get the same arguments).</summary>
    private sealed record SymConvRun(SymmetricConvSpec Spec, string Device, int Seed)
    {
        public string[] Args() => new[] { "--length", $"{Spec.Length}", "--channels", $"{Spec.Channels}", "--kernel", $"{Spec.Kernel}",
            "--layers", $"{Spec.Layers}", "--batch", $"{Spec.Batch}", "--layout", Spec.Layout, "--tile", $"{Spec.Tile}", "--device", Device, "--seed", $"{Seed}" };
    }

    /// <summary>Peak resident memory (kB) of a child process of this executable that runs one variant twice.</summary>
    private static long ChildPeakKb(SymConvRun run, string variant, bool retainingAllocator)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (!retainingAllocator) psi.Environment["EQUISHARP_NATIVE_ALLOCATOR"] = "default";
        else psi.Environment.Remove("EQUISHARP_NATIVE_ALLOCATOR");
        string exe = Environment.ProcessPath!;
        psi.FileName = exe;
        // under `dotnet EquiSharp.Cli.dll` the process is the dotnet host: pass the entry assembly first
        if (Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location);
        foreach (var a in new[] { "bench", "child", "--task", "symconv", "--variant", variant }.Concat(run.Args())) psi.ArgumentList.Add(a);
        using var proc = Process.Start(psi)!;
        var stderrTask = proc.StandardError.ReadToEndAsync();
        string stdout = proc.StandardOutput.ReadToEnd();
        proc.WaitForExit();
        string stderr = stderrTask.Result;
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("vmhwm_kb=", StringComparison.Ordinal));
        if (proc.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"bench child ({variant}) failed with exit code {proc.ExitCode}: {stderr.Trim()}");
        return long.Parse(line["vmhwm_kb=".Length..].Trim(), CultureInfo.InvariantCulture);
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
            string v = parse.GetValue(variant)!;
            if (parse.GetValue(task) != "symconv") throw new ArgumentException("bench child: unknown --task (expected symconv).");
            if (v == "idle")
            {
                // load libtorch and run one tiny op: the baseline holds the libraries and runtime, but no work
                using var t = ones(new long[] { 4, 4 }, device: dev);
                using var u = t.matmul(t);
                Console.WriteLine(Inv($"check={u.sum().item<float>()}"));
            }
            else if (v == "dense" || v == "packed")
            {
                var work = new SymmetricConvWorkload(run.Spec, dev, v == "dense" ? SymmetricConvWorkload.Keep.Dense : SymmetricConvWorkload.Keep.Packed, run.Seed);
                for (int i = 0; i < 2; i++) { if (v == "dense") work.RunDense(); else work.RunPacked(); }
            }
            else throw new ArgumentException($"bench child: unknown --variant {v} (expected idle, dense or packed).");
            Console.WriteLine($"vmhwm_kb={PeakResidentKb()}");
            return 0;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ helpers

    private static void PrintTimeTable(List<string> names, IReadOnlyDictionary<string, VariantTiming> timing)
    {
        int w = Math.Max(8, names.Max(n => n.Length));
        Console.WriteLine($"{"variant".PadRight(w)}  {"median_ms",10}  {"min_ms",8}  {"vs_" + names[0],10}");
        foreach (var name in names)
            Console.WriteLine(Inv($"{name.PadRight(w)}  {timing[name].MedianSeconds * 1e3,10:0.0}  {timing[name].MinSeconds * 1e3,8:0.0}  {timing[names[0]].MedianSeconds / timing[name].MedianSeconds,10:0.00}"));
    }

    /// <summary>The 1-minute load average (other processes compete for the cores; printed with every benchmark).</summary>
    internal static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; } catch (IOException) { return "n/a"; }
    }

    internal static long PeakResidentKb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return -1;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
