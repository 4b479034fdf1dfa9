using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EquiSharp.Pairwise;
using EquiSharp.Pairwise.Separable;
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
        var repeats = Opt("--repeats", "Timed repeats per variant (median reported).", 7);
        var warmup = Opt("--warmup", "Untimed warm-up runs per variant.", 2);
        var plain = new Option<bool>("--plain") { Description = "Also time the unfused separable variant (plain autograd ops)." };
        var device = CommonOptions.Device();
        var seed = CommonOptions.Seed();
        var cmd = new Command("generating", "Symmetry-generating layer, forward+backward: separable (no self-Cartesian product) vs dense (materialised product + conv with ToDense() weight). Last line: speedup=<dense/separable>.")
            { length, inF, outF, kernel, batch, repeats, warmup, plain, device, seed };
        cmd.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            long l = parse.GetValue(length), n = parse.GetValue(inF), f = parse.GetValue(outF), k = parse.GetValue(kernel), b = parse.GetValue(batch);
            int reps = parse.GetValue(repeats), warm = parse.GetValue(warmup);
            torch.manual_seed(parse.GetValue(seed));
            var layer = new SeparableSymmetryGeneratingConv2d(n, f, k, device: dev);
            var dense = layer.ToDense();
            var x = randn(new[] { b, l, n }, device: dev);
            var upstream = randn(new[] { b, f, l, l }, device: dev);
            var cartesian = PairLayers.SelfCartesian();

            var variants = new List<(string Name, Action Run)>
            {
                ("dense", () => Step(xv => dense.forward(cartesian.forward(xv)), x, upstream, dense)),
                ("separable", () => { layer.Engine = SeparableGenerating.Engine.Fused; Step(xv => layer.forward(xv), x, upstream, layer); }),
            };
            if (parse.GetValue(plain))
                variants.Add(("separable-plain", () => { layer.Engine = SeparableGenerating.Engine.Plain; Step(xv => layer.forward(xv), x, upstream, layer); }));

            Console.WriteLine($"bench generating: L={l} n={n} (2n={2 * n} channels) F={f} kernel={k} batch={b} device={dev.type} threads={torch.get_num_threads()} repeats={reps} warmup={warm}");
            var med = TimeAlternating(variants, reps, warm, dev);
            PrintTimeTable(variants.Select(v => v.Name).ToList(), med);
            Console.WriteLine(Inv($"speedup={med["dense"] / med["separable"]:0.00}"));
            return 0;
        });
        return cmd;
    }

    /// <summary>One forward+backward with a fixed upstream gradient; everything it allocates is disposed.</summary>
    private static void Step(Func<Tensor, Tensor> f, Tensor x, Tensor upstream, nn.Module module)
    {
        using var scope = NewDisposeScope();
        module.zero_grad();
        var xv = x.detach().requires_grad_(true);
        var z = f(xv);
        z.backward(new[] { upstream });
    }

    // ------------------------------------------------------------------ symconv (packed maps)

    private static Command SymConv()
    {
        var cmd = new Command("symconv", "Stack of symmetry-preserving convs with BN and ReLU, forward+backward: packed vs dense.");
        cmd.SetAction(_ => { Console.Error.WriteLine("bench symconv: not implemented yet."); return 2; });
        return cmd;
    }

    // ------------------------------------------------------------------ child process for peak memory

    private static Command Child()
    {
        var task = new Option<string>("--task") { Description = "What to run (internal).", DefaultValueFactory = _ => "idle" };
        var cmd = new Command("child", "Internal: runs one variant in this process and prints its peak resident memory (VmHWM).") { task };
        cmd.Hidden = true;
        cmd.SetAction(parse =>
        {
            Console.WriteLine($"vmhwm_kb={PeakResidentKb()}");
            return 0;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Runs the variants alternately (warm-up rounds first), returns the median seconds per variant.</summary>
    private static Dictionary<string, double> TimeAlternating(List<(string Name, Action Run)> variants, int repeats, int warmup, Device device)
    {
        var times = variants.ToDictionary(v => v.Name, _ => new List<double>());
        for (int round = 0; round < warmup + repeats; round++)
            foreach (var (name, run) in variants)
            {
                Sync(device);
                var sw = Stopwatch.StartNew();
                run();
                Sync(device);
                sw.Stop();
                if (round >= warmup) times[name].Add(sw.Elapsed.TotalSeconds);
            }
        return times.ToDictionary(kv => kv.Key, kv => Median(kv.Value));
    }

    private static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(v => v).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    private static void PrintTimeTable(List<string> names, Dictionary<string, double> median)
    {
        int w = Math.Max(8, names.Max(n => n.Length));
        Console.WriteLine($"{"variant".PadRight(w)}  {"median_ms",10}  {"vs_" + names[0],10}");
        foreach (var name in names)
            Console.WriteLine(Inv($"{name.PadRight(w)}  {median[name] * 1e3,10:0.0}  {median[names[0]] / median[name],10:0.00}"));
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
