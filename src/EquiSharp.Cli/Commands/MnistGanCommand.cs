using System.CommandLine;
using System.Globalization;
using EquiSharp.Applications.Images.Gan;
using EquiSharp.Training;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp mnist gan</c>: a small generator against a P4CNN (rotation-invariant) or Z2CNN discriminator on rotated MNIST.</summary>
public sealed partial class MnistCommand
{
    private static Command Gan()
    {
        var data = new Option<string>("--data") { Description = "Data file written by 'mnist build' (its train split is used)." };
        var discriminator = new Option<string>("--discriminator") { Description = "p4cnn (invariant to 90° rotations), z2cnn (plain CNN of the same size) or p4mcnn.", DefaultValueFactory = _ => "p4cnn" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (on resume: the new total).", DefaultValueFactory = _ => 10 };
        var outDir = new Option<string?>("--out") { Description = "Run directory (gan.json, checkpoint/, losses.csv, losses.png, samples-epochNN.png)." };
        var batch = new Option<int>("--batch") { Description = "Batch size (real and generated images per step).", DefaultValueFactory = _ => 64 };
        var latent = new Option<int>("--latent") { Description = "Size of the generator's latent vector.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate of both networks.", DefaultValueFactory = _ => 2e-4 };
        var sampleEvery = new Option<int>("--sample-every") { Description = "Write a sample grid after epoch 1, every N epochs and after the last.", DefaultValueFactory = _ => 2 };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Stop after this many steps in total (smoke runs); checkpointed, resumable." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this directory (its stored settings are reused)." };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var command = new Command("gan", "Train a GAN on rotated MNIST whose discriminator is P4CNN or Z2CNN (sample grids, loss curves, atomic checkpoints, resume).")
            { data, discriminator, epochs, outDir, batch, latent, lr, sampleEvery, maxSteps, resume, seed, device, CommonOptions.Threads(defaultThreads: 1) };
        command.SetAction(parse =>
        {
            string? resumeDir = parse.GetValue(resume);
            string dir = CommonOptions.RunDirectory(resumeDir, parse.GetValue(outDir));
            var settings = new GanSettings
            {
                DataPath = parse.GetValue(data) ?? (resumeDir is not null ? "" : throw new ArgumentException("--data is required.")),
                Discriminator = parse.GetValue(discriminator)!.Trim().ToLowerInvariant(), BatchSize = parse.GetValue(batch),
                LatentSize = parse.GetValue(latent), LearningRate = parse.GetValue(lr), SampleEvery = parse.GetValue(sampleEvery), Seed = parse.GetValue(seed),
            };
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            var s = ProgressDisplay.Run(progress => GanRun.Run(settings, dir, parse.GetValue(epochs), parse.GetValue(maxSteps), resumeDir is not null, dev, progress));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"finished: {s.Step} steps, {s.History.Count} epochs, {s.TrainSeconds:0} s; run in {Path.GetFullPath(dir)}"));
            return 0;
        });
        return command;
    }
}
