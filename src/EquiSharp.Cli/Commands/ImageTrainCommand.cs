using System.CommandLine;
using EquiSharp.Applications.Images.Training;
using EquiSharp.Training;

namespace EquiSharp.Cli.Commands;

/// <summary>The <c>train</c> subcommand of the image applications (<c>mnist train</c>, <c>cifar train</c>): one set of options, one run (<see cref="ImageTrainRun"/>).</summary>
internal static class ImageTrainCommand
{
    /// <param name="dataset">The kind of data <c>--data</c> names (<see cref="Applications.Images.Formats.ImageDataSet.Load"/>).</param>
    /// <param name="models">Help text listing the models.</param>
    /// <param name="defaultModel">Model when --model is not given.</param>
    /// <param name="dataHelp">Help text of --data.</param>
    /// <param name="description">The command's description.</param>
    public static Command Create(string dataset, string models, string defaultModel, string dataHelp, string description)
    {
        var data = new Option<string>("--data") { Description = dataHelp };
        var model = new Option<string>("--model") { Description = models, DefaultValueFactory = _ => defaultModel };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (a fixed budget: the best dev epoch's weights are kept).", DefaultValueFactory = _ => 30 };
        var outDir = new Option<string?>("--out") { Description = "Run directory (model.json, train.json, checkpoint/, best/, curves.png, report.txt)." };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (momentum; the p4/p4m paper's better choice) or adam.", DefaultValueFactory = _ => "sgd" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default 0.01 for sgd, 0.001 for adam)." };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum.", DefaultValueFactory = _ => 0.5 };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 64 };
        var dropout = new Option<double>("--dropout") { Description = "Dropout after each hidden layer (All-CNN-C: after the two strided layers). Default 0: with 0.3, P4CNN's dev accuracy swung between 0.64 and 0.89 over 30 epochs; without, 0.957 after 8.", DefaultValueFactory = _ => 0.0 };
        var noBatchNorm = new Option<bool>("--no-batch-norm") { Description = "Without (group) batch norm; the convolutions then have tied biases." };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Stop after this many optimizer steps in total (smoke runs)." };
        var maxCpuHours = CommonOptions.MaxCpuHours();
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this directory (its stored settings are reused)." };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        // one torch thread by default: on 2 shared cores a 30-step Z2CNN run took 3.2 s of CPU with one thread and
        // 14.7 s with two (these convolutions are too small to split; the second thread mostly spins)
        var command = new Command("train", description)
            { data, model, epochs, outDir, optimizer, lr, momentum, batch, dropout, noBatchNorm, maxSteps, maxCpuHours, resume, seed, device, CommonOptions.Threads(defaultThreads: 1) };
        command.SetAction(parse =>
        {
            string? resumeDir = parse.GetValue(resume);
            string dir = CommonOptions.RunDirectory(resumeDir, parse.GetValue(outDir));
            string dataPath = parse.GetValue(data) ?? (resumeDir is not null ? "" : throw new ArgumentException("--data is required."));
            int n = parse.GetValue(epochs);
            if (n <= 0) throw new ArgumentException($"--epochs {n}: expected a positive number.");
            var settings = new ImageTrainSettings
            {
                DataPath = dataPath, Dataset = dataset, Optimizer = parse.GetValue(optimizer)!.Trim().ToLowerInvariant(), LearningRate = parse.GetValue(lr),
                Momentum = parse.GetValue(momentum), BatchSize = parse.GetValue(batch), Seed = parse.GetValue(seed),
            };
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            var fit = ProgressDisplay.Run(progress => ImageTrainRun.Run(parse.GetValue(model)!, settings, dir, n, parse.GetValue(maxSteps), resumeDir is not null,
                parse.GetValue(dropout), !parse.GetValue(noBatchNorm), dev, progress, parse.GetValue(maxCpuHours)));
            var s = fit.State;
            Console.WriteLine(FormattableString.Invariant(
                $"finished: {s.Step} steps, {s.History.Count} epochs, {s.TrainSeconds:0} s, best dev acc={(s.BestEpoch > 0 ? s.BestScore : double.NaN):0.0000} at epoch {s.BestEpoch}; run in {Path.GetFullPath(dir)}"));
            return fit.Interrupted ? 130 : 0;
        });
        return command;
    }
}
