using System.CommandLine;
using EquiSharp.Applications.Images;
using EquiSharp.Performance;
using EquiSharp.Training;
using TorchSharp;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp bench allcnn</c>: All-CNN-C Z2 vs p4 vs p4m, forward+backward per image, side by side.</summary>
public sealed partial class BenchCommand
{
    private static Command AllCnn()
    {
        var batch = Opt("--batch", "Images per step (32×32×3).", 32);
        var repeats = Opt("--repeats", "Timed repeats per variant (median reported).", 5);
        var warmup = Opt("--warmup", "Untimed warm-up runs per variant.", 1);
        var threads = Opt("--threads", "Intra-op threads (0 = TorchSharp's default).", 0);
        var device = CommonOptions.Device();
        var seed = CommonOptions.Seed();
        var cmd = new Command("allcnn", "All-CNN-C in Z2, p4 and p4m variants (comparable free parameters), one training step's forward+backward, timed alternately. Last line: p4_vs_z2=<ratio> p4m_vs_z2=<ratio>.")
            { batch, repeats, warmup, threads, device, seed };
        cmd.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            if (parse.GetValue(threads) > 0) torch.set_num_threads(parse.GetValue(threads));
            int b = parse.GetValue(batch), reps = parse.GetValue(repeats), warm = parse.GetValue(warmup);
            Console.WriteLine($"bench allcnn: 32x32x3 images, batch={b} device={dev.type} threads={torch.get_num_threads()} repeats={reps} warmup={warm} load={ProcessMemory.LoadAverage()}");
            var (timing, free) = ProgressDisplay.Run(progress =>
            {
                progress.Start("bench allcnn", SideBySideTimer.RunCount(AllCnnBenchmark.Models.Count, reps, warm));
                return AllCnnBenchmark.Run(b, reps, warm, dev, parse.GetValue(seed), step => progress.Step(step, double.NaN));
            });
            Console.WriteLine($"{"variant",-10}  {"free_params",11}  {"step_ms",9}  {"ms_per_image",12}  {"min_ms_per_image",16}  {"vs_z2",6}");
            var z2 = timing["allcnn-z2"].MedianSeconds;
            foreach (var m in AllCnnBenchmark.Models)
                Console.WriteLine(Inv($"{m,-10}  {free[m],11:N0}  {timing[m].MedianSeconds * 1e3,9:0.0}  {timing[m].MedianSeconds * 1e3 / b,12:0.00}  {timing[m].MinSeconds * 1e3 / b,16:0.00}  {timing[m].MedianSeconds / z2,6:0.00}"));
            Console.WriteLine(Inv($"p4_vs_z2={timing["allcnn-p4"].MedianSeconds / z2:0.00} p4m_vs_z2={timing["allcnn-p4m"].MedianSeconds / z2:0.00}"));
            return 0;
        });
        return cmd;
    }
}
