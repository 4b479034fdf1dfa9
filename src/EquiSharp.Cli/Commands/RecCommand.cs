using System.CommandLine;
using System.Globalization;
using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.Applications.Recommendation.Evaluation;
using EquiSharp.Applications.Recommendation.Training;
using EquiSharp.Training;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp rec train|eval|recommend</c>: sequential recommendation with CosRec or SCosRec (symmetric kernels).</summary>
public sealed class RecCommand : ICliCommand
{
    public Command Build()
    {
        var command = new Command("rec", "Sequential recommendation: train CosRec / SCosRec on implicit interactions, evaluate ranking metrics, recommend items.");
        command.Subcommands.Add(Train());
        command.Subcommands.Add(Eval());
        command.Subcommands.Add(Recommend());
        return command;
    }

    private static Command Train()
    {
        var defaults = new RecommendationTrainRunOptions();
        var data = new Option<string?>("--data") { Description = "Interactions file (plain or gzip): MovieLens ratings.dat, u.data or the Caser text format." };
        var format = new Option<string>("--format") { Description = "ml1m (user::item::rating::timestamp), ml100k (tab-separated u.data) or caser (user item rating, in time order).", DefaultValueFactory = _ => "ml100k" };
        var model = new Option<string>("--model") { Description = "cosrec (plain convolutions) or scosrec (symmetry-generating and -preserving convolutions).", DefaultValueFactory = _ => "scosrec" };
        var outDir = new Option<string?>("--out") { Description = "Model directory (run.json, vocabulary, checkpoints, best weights, curves)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this model directory with its recorded options." };
        var minUser = new Option<int>("--min-user-count") { Description = "Keep users with at least this many interactions (0 = all).", DefaultValueFactory = _ => 0 };
        var minItem = new Option<int>("--min-item-count") { Description = "Keep items with at least this many interactions (0 = all).", DefaultValueFactory = _ => 0 };
        var trainFraction = new Option<double>("--train-fraction") { Description = "First fraction of every user's interactions used for training.", DefaultValueFactory = _ => defaults.TrainFraction };
        var validFraction = new Option<double>("--valid-fraction") { Description = "Next fraction: validation (model selection, schedule); the rest is the test period.", DefaultValueFactory = _ => defaults.ValidationFraction };
        var markov = new Option<int>("--markov-order") { Description = "L: previous items per input (the pair maps are L×L).", DefaultValueFactory = _ => defaults.MarkovOrder };
        var targets = new Option<int>("--targets") { Description = "T: next items per training instance.", DefaultValueFactory = _ => defaults.Targets };
        var dim = new Option<int>("--dim") { Description = "d: user and item embedding size.", DefaultValueFactory = _ => defaults.EmbeddingDim };
        var negatives = new Option<int>("--negatives") { Description = "Negatives sampled per instance (items outside the user's training history).", DefaultValueFactory = _ => defaults.Negatives };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate (reduced ×0.15 after 3 epochs without a better validation MAP).", DefaultValueFactory = _ => defaults.LearningRate };
        var l2 = new Option<double>("--l2") { Description = "L2 regularisation (Adam weight decay), the same for both models.", DefaultValueFactory = _ => defaults.L2 };
        var batch = new Option<int>("--batch") { Description = "Batch size (instances).", DefaultValueFactory = _ => defaults.BatchSize };
        var patience = new Option<int>("--patience") { Description = "Early stopping: epochs without a better validation MAP (0 = never: a fixed budget).", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => defaults.Epochs };
        var maxCpuHours = CommonOptions.MaxCpuHours();
        var maxSteps = new Option<long?>("--max-steps") { Description = "Stop after this many optimizer steps in total (smoke runs; the last epoch is cut short and still evaluated)." };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var checkpoints = new CheckpointOptions();
        var command = new Command("train", "Train CosRec or SCosRec with negative sampling, validation-MAP selection, reduce-on-plateau and checkpoints "
                + "(atomic; at every epoch end, every --checkpoint-every steps and every --checkpoint-minutes). " + RunOptions.Describe<RecommendationTrainRunOptions>())
            { data, format, model, outDir, resume, minUser, minItem, trainFraction, validFraction, markov, targets, dim, negatives, lr, l2, batch, patience, epochs, maxSteps, maxCpuHours, seed, device, CommonOptions.Threads() };
        checkpoints.AddTo(command);
        command.SetAction(parse =>
        {
            string? resumeDir = parse.GetValue(resume);
            string dir = CommonOptions.RunDirectory(resumeDir, parse.GetValue(outDir));
            var cadence = checkpoints.Get(parse);
            int p = parse.GetValue(patience);
            var options = new RecommendationTrainRunOptions
            {
                DataPath = parse.GetValue(data) is string d ? Path.GetFullPath(d) : "", // recorded paths hold from any directory
                Format = InteractionReader.ParseFormat(parse.GetValue(format)!), Model = RecommendationTrainRunOptions.ParseModel(parse.GetValue(model)!),
                Seed = parse.GetValue(seed), OutDir = dir, Resume = resumeDir is not null,
                MinUserInteractions = NonNegative(parse.GetValue(minUser), "--min-user-count"), MinItemInteractions = NonNegative(parse.GetValue(minItem), "--min-item-count"),
                TrainFraction = parse.GetValue(trainFraction), ValidationFraction = parse.GetValue(validFraction),
                MarkovOrder = CommonOptions.Positive(parse.GetValue(markov), "--markov-order"), Targets = CommonOptions.Positive(parse.GetValue(targets), "--targets"),
                EmbeddingDim = CommonOptions.Positive(parse.GetValue(dim), "--dim"), Negatives = CommonOptions.Positive(parse.GetValue(negatives), "--negatives"),
                LearningRate = PositiveReal(parse.GetValue(lr), "--lr"), L2 = parse.GetValue(l2) is var w && w >= 0 ? w : throw new ArgumentException($"--l2 {w.ToString(CultureInfo.InvariantCulture)}: expected ≥ 0."),
                BatchSize = CommonOptions.Positive(parse.GetValue(batch), "--batch"), Patience = NonNegative(p, "--patience") == 0 ? null : p,
                Epochs = CommonOptions.Positive(parse.GetValue(epochs), "--epochs"), MaxSteps = parse.GetValue(maxSteps), MaxCpuHours = parse.GetValue(maxCpuHours),
                DeviceName = CommonOptions.ParseDevice(parse.GetValue(device)!).ToString(),
                CheckpointEvery = cadence.EverySteps, CheckpointMinutes = cadence.EveryMinutes,
            };
            if (options.TrainFraction is <= 0 or > 1 || options.ValidationFraction < 0 || options.TrainFraction + options.ValidationFraction > 1 + 1e-12)
                throw new ArgumentException(FormattableString.Invariant($"--train-fraction {options.TrainFraction} --valid-fraction {options.ValidationFraction}: expected train > 0, valid ≥ 0 and train + valid ≤ 1."));
            var result = ProgressDisplay.Run(progress => RecommendationTrainRun.Run(options, progress, CommonOptions.GivenOptions(parse, command)));
            return CommonOptions.ReportFinished(result.Fit, "valid map", dir);
        });
        return command;
    }

    private static Command Eval()
    {
        var modelDir = new Option<string>("--model") { Description = "Model directory written by 'rec train'.", Required = true };
        var data = new Option<string?>("--data") { Description = "Interactions to split and evaluate (default: the file the model was trained on); read with the recorded format, filters and split." };
        var device = CommonOptions.Device();
        var command = new Command("eval", "Ranking metrics on the test period (the last interactions of every user): MAP, precision and recall at 1, 5, 10.") { modelDir, data, device, CommonOptions.Threads() };
        command.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            using var run = RecommendationModelDirectory.Open(parse.GetValue(modelDir)!, parse.GetValue(data) is string d ? Path.GetFullPath(d) : null, dev);
            var split = run.Split;
            Console.WriteLine($"{run.Model.GetName()} ({run.Model.FreeParameterCount:N0} free parameters) from {run.Weights}; " +
                $"{split.Log.UserCount} users, {split.Log.ItemCount} items in {run.Options.DataPath}");
            var summary = RecommendationEvaluation.Evaluate(run.Model, split, EvaluationPeriod.Test, dev);
            Console.WriteLine($"test period: {summary.Count} users");
            Console.WriteLine(RecommendationEvaluation.FormatLine(summary));
            return 0;
        });
        return command;
    }

    private static Command Recommend()
    {
        var modelDir = new Option<string>("--model") { Description = "Model directory written by 'rec train'.", Required = true };
        var user = new Option<string>("--user") { Description = "User id as in the data file.", Required = true };
        var k = new Option<int>("--k") { Description = "Number of items.", DefaultValueFactory = _ => 10 };
        var data = new Option<string?>("--data") { Description = "Interactions (default: the file the model was trained on)." };
        var device = CommonOptions.Device();
        var command = new Command("recommend", "The top-k items a user has not interacted with, after the user's last L interactions, with their scores.") { modelDir, user, k, data, device, CommonOptions.Threads() };
        command.SetAction(parse =>
        {
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            using var run = RecommendationModelDirectory.Open(parse.GetValue(modelDir)!, parse.GetValue(data) is string d ? Path.GetFullPath(d) : null, dev);
            var top = UnseenItemRecommender.TopUnseen(run.Model, run.Split.Log, parse.GetValue(user)!, parse.GetValue(k), dev);
            Console.WriteLine("rank item score");
            for (int r = 0; r < top.Count; r++)
                Console.WriteLine(FormattableString.Invariant($"{r + 1} {top[r].ItemId} {top[r].Score:0.0000}"));
            return 0;
        });
        return command;
    }


    private static int NonNegative(int value, string option) =>
        value >= 0 ? value : throw new ArgumentException($"{option} {value}: expected 0 or more.");

    private static double PositiveReal(double value, string option) =>
        value > 0 ? value : throw new ArgumentException(FormattableString.Invariant($"{option} {value}: expected a positive number."));
}
