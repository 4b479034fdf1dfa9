using System.CommandLine;
using System.Globalization;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Metrics;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Applications.Rna;
using EquiSharp.Applications.Rna.Decoding;
using EquiSharp.Applications.Rna.Evaluation;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Inference;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Applications.Rna.Training;
using EquiSharp.Training;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp rna train|eval|predict</c>: RNA secondary structure with the SCNN (symmetric) or CNN model.</summary>
public sealed class RnaCommand : ICliCommand
{
    public Command Build()
    {
        var command = new Command("rna", "RNA secondary structure: train SCNN/CNN pair models, evaluate them, predict structures.");
        command.Subcommands.Add(Train());
        command.Subcommands.Add(Eval());
        command.Subcommands.Add(Predict());
        command.Subcommands.Add(RnaClustersCommand.Build());
        return command;
    }

    /// <summary>
    /// Decoder flags shared by all three subcommands. The minimum hairpin loop defaults to 0 (the paper's decoding) where
    /// structures are scored (train, eval), and to 3 in predict, whose structures people read: no base pairs with its
    /// neighbour. On the rna-default dev clusters the interim bundled models scored the same either way (epoch 7: F1
    /// 0.628 both; epoch 4: 0.618 with 3 against 0.617 without).
    /// </summary>
    private sealed class DecoderOptions(int minHairpinDefault = 0)
    {
        public readonly Option<float> Threshold = new("--threshold") { Description = "Pair probability threshold of the greedy decoder.", DefaultValueFactory = _ => 0.5f };
        public readonly Option<int> MinHairpin = new("--min-hairpin") { Description = "Minimum hairpin loop (unpaired bases between i and j); 0 = off, 3 is the biological limit.", DefaultValueFactory = _ => minHairpinDefault };
        public readonly Option<bool> Canonical = new("--canonical") { Description = "Decode canonical pairs only (AU, GC, GU)." };
        public void AddTo(Command c) { c.Options.Add(Threshold); c.Options.Add(MinHairpin); c.Options.Add(Canonical); }
        public GreedyDecoderOptions Get(ParseResult p)
        {
            float t = p.GetValue(Threshold);
            if (!(t >= 0 && t < 1)) throw new ArgumentException($"--threshold {t.ToString(CultureInfo.InvariantCulture)}: expected a value in [0, 1).");
            int h = p.GetValue(MinHairpin);
            if (h < 0) throw new ArgumentException($"--min-hairpin {h}: expected ≥ 0.");
            return new GreedyDecoderOptions { Threshold = t, MinHairpinLoop = h, CanonicalOnly = p.GetValue(Canonical) };
        }
    }

    private static Option<int> TileOption() => new("--tile") { Description = "Tile size of full-length inference (memory per convolution call grows with its square); 0 = the plain untiled forward (eval only, for comparison).", DefaultValueFactory = _ => 256 };

    private static Command Train()
    {
        var train = new Option<string[]>("--train") { Description = "Training records: a file in any supported format (plain or gzip) or a directory of such files; repeat to train on several sources." };
        var valid = new Option<string?>("--valid") { Description = "Reported on once at the end, at full length (never used for selection)." };
        var model = new Option<string>("--model") { Description = "scnn (symmetric kernels) or cnn (plain convolutions, same architecture).", DefaultValueFactory = _ => "scnn" };
        var outDir = new Option<string?>("--out") { Description = "Model directory (model.json, dev split, checkpoints, curves, report)." };
        var size = new Option<string>("--size") { Description = "Architecture: paper (the authors' model) or small (quick demos and tests).", DefaultValueFactory = _ => "paper" };
        var activation = new Option<string>("--activation") { Description = "Hidden activation: relu (authors' code) or sigmoid (paper text).", DefaultValueFactory = _ => "relu" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 30 };
        var crop = new Option<int>("--crop") { Description = "Each batch item is a random window of at most this many nucleotides.", DefaultValueFactory = _ => 128 };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 10 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 2e-3 };
        var l2 = new Option<double>("--l2") { Description = "L2 regularisation (Adam weight decay).", DefaultValueFactory = _ => 1e-5 };
        var posWeight = new Option<double>("--pos-weight") { Description = "Weight of positive pairs in the BCE.", DefaultValueFactory = _ => 5.0 };
        var patience = new Option<int>("--patience") { Description = "Early stopping: epochs without a better dev accuracy (0 = never stop early).", DefaultValueFactory = _ => 5 };
        var select = new Option<string>("--select") { Description = "Dev metric that selects the best epoch and drives early stopping: acc, f1, mcc, ppv or sen.", DefaultValueFactory = _ => "acc" };
        var clipGrad = new Option<double?>("--clip-grad") { Description = "Clip the gradients' global L2 norm to this before each step (default: no clipping)." };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Stop after this many optimizer steps in total (smoke runs)." };
        var maxCpuHours = CommonOptions.MaxCpuHours();
        var batching = new Option<string>("--batching") { Description = "random (records in shuffled order) or length (records of similar length batched together, so batches hold little padding; batch order stays random).", DefaultValueFactory = _ => "random" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this model directory with its recorded options (see above for options given again)." };
        var checkpoints = new CheckpointOptions();
        var devFraction = new Option<double>("--dev-fraction") { Description = "Fraction of training records split off (by --seed) as the dev set.", DefaultValueFactory = _ => 0.1 };
        var devSplit = new Option<string?>("--dev-split") { Description = "Reuse this dev-split.json (e.g. from the other model with the same seed) instead of drawing a split." };
        var devMax = new Option<int>("--dev-max-length") { Description = "Dev sequences are truncated to this length for the per-epoch evaluation.", DefaultValueFactory = _ => 256 };
        var validMax = new Option<int?>("--valid-max-length") { Description = "Truncate --valid sequences in the final report (default: full length)." };
        var tile = TileOption();
        var maps = new Option<string>("--maps") { Description = "Pair maps in training: auto (packed for scnn where faster), dense or packed (scnn only).", DefaultValueFactory = _ => "auto" };
        var init = new Option<string>("--init") { Description = "Kernel initialisation: glorot (half-Glorot for tied kernels, Glorot-uniform for plain ones) or authors (std √(0.5/(C_in+C_out)), no k² term, as in the SCNN authors' code; the default, chosen by dev probes in docs/results/rna.md).", DefaultValueFactory = _ => "authors" };
        var bnMomentum = new Option<double>("--bn-momentum") { Description = "Batch-norm momentum, PyTorch's convention (Keras' 0.99, the authors', is 0.01).", DefaultValueFactory = _ => PairNormSettings.Default.Momentum };
        var bnEps = new Option<double>("--bn-eps") { Description = "Batch-norm ε (the authors' Keras default: 1e-3).", DefaultValueFactory = _ => PairNormSettings.Default.Eps };
        var cnnNormStats = new Option<string>("--cnn-norm-stats") { Description = "CNN only: batch-norm statistics over the map mirrored from its supervised upper triangle (upper; what the SCNN's symmetric maps give) or over the whole map (block; lower triangle included, never supervised).", DefaultValueFactory = _ => "upper" };
        var outputBias = new Option<string>("--output-bias") { Description = "Start of the output logits: zero (p = ½ everywhere) or base-rate (the default: the logit of the pair rate of the first training crops).", DefaultValueFactory = _ => "base-rate" };
        var cropSchedule = new Option<string?>("--crop-schedule") { Description = "Crop curriculum CROP:STEP,… (e.g. 128:0,256:1000,512:2000: 128-nt crops from step 0, 256 from step 1000, …); overrides --crop." };
        var devWindow = new Option<string>("--dev-window") { Description = "Dev windows scored every epoch: prefix (the first --dev-max-length nt) or random (one seeded random window of --dev-max-length nt per record, stored in dev-windows.json).", DefaultValueFactory = _ => "prefix" };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var decoder = new DecoderOptions();
        var command = new Command("train", "Train an RNA pair model (SCNN or CNN) with random crops, dev-set selection and checkpoints "
                + "(atomic; at every epoch end, every --checkpoint-every steps and every --checkpoint-minutes). " + RunOptions.Describe<RnaTrainRunOptions>())
            { train, valid, model, outDir, size, activation, epochs, crop, batch, lr, l2, posWeight, patience, select, clipGrad, maxSteps, maxCpuHours, batching, resume, devFraction, devSplit, devMax, validMax, tile, maps, seed, device,
              init, bnMomentum, bnEps, cnnNormStats, outputBias, cropSchedule, devWindow, CommonOptions.Threads(), CommonOptions.Convolution() };
        decoder.AddTo(command);
        checkpoints.AddTo(command);
        command.SetAction(parse =>
        {
            string? resumeDir = parse.GetValue(resume);
            string dir = CommonOptions.RunDirectory(resumeDir, parse.GetValue(outDir));
            string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path); // recorded paths hold from any directory
            var decoderOptions = decoder.Get(parse);
            int p = parse.GetValue(patience);
            var options = new RnaTrainRunOptions
            {
                TrainPaths = (parse.GetValue(train) ?? Array.Empty<string>()).Select(t => FullPath(t)!).ToArray(), ValidPath = FullPath(parse.GetValue(valid)), OutDir = dir, Resume = resumeDir is not null,
                DevSplitFile = FullPath(parse.GetValue(devSplit)), DevFraction = parse.GetValue(devFraction), Seed = parse.GetValue(seed),
                Model = RnaModelSpec.ParseVariant(parse.GetValue(model)!), Size = ParseSize(parse.GetValue(size)!), Activation = ParseActivation(parse.GetValue(activation)!),
                Crop = CommonOptions.Positive(parse.GetValue(crop), "--crop"), BatchSize = CommonOptions.Positive(parse.GetValue(batch), "--batch"),
                LearningRate = parse.GetValue(lr), L2 = parse.GetValue(l2), PositiveWeight = parse.GetValue(posWeight), Patience = p <= 0 ? null : p,
                Select = parse.GetValue(select)!.Trim().ToLowerInvariant() is var sel && new[] { "acc", "f1", "mcc", "ppv", "sen" }.Contains(sel) ? sel
                    : throw new ArgumentException($"--select {parse.GetValue(select)}: expected acc, f1, mcc, ppv or sen."),
                ClipGradientNorm = parse.GetValue(clipGrad) is double c && !(c > 0) ? throw new ArgumentException($"--clip-grad {c}: expected a positive norm.") : parse.GetValue(clipGrad),
                DevMaxLength = CommonOptions.Positive(parse.GetValue(devMax), "--dev-max-length"),
                Threshold = decoderOptions.Threshold, MinHairpin = decoderOptions.MinHairpinLoop, Canonical = decoderOptions.CanonicalOnly,
                Epochs = CommonOptions.Positive(parse.GetValue(epochs), "--epochs"), MaxSteps = parse.GetValue(maxSteps),
                MaxCpuHours = parse.GetValue(maxCpuHours),
                Batching = Choice(parse.GetValue(batching)!, "--batching", ("random", "random"), ("length", "length")),
                DeviceName = CommonOptions.ParseDevice(parse.GetValue(device)!).ToString(), TileSize = CommonOptions.Positive(parse.GetValue(tile), "--tile"),
                ValidMaxLength = parse.GetValue(validMax),
                Maps = PairMapPolicy.Parse(parse.GetValue(maps)!),
                Init = RnaPairModel.ParseInit(parse.GetValue(init)!) is null ? "glorot" : "authors",
                BnMomentum = parse.GetValue(bnMomentum) is var m && m > 0 && m <= 1 ? m : throw new ArgumentException($"--bn-momentum {m}: expected a number in (0, 1] (PyTorch's convention)."),
                BnEps = parse.GetValue(bnEps) is var e && e > 0 ? e : throw new ArgumentException($"--bn-eps {e}: expected a positive number."),
                CnnNormStatistics = Choice(parse.GetValue(cnnNormStats)!, "--cnn-norm-stats", ("upper", PairNormStatistics.MirroredUpper), ("block", PairNormStatistics.WholeBlock)),
                OutputBias = Choice(parse.GetValue(outputBias)!, "--output-bias", ("zero", OutputBias.Zero), ("base-rate", OutputBias.BaseRate)),
                CropSchedule = parse.GetValue(cropSchedule) is string cs ? CropSchedule.Parse(cs).ToString() : null,
                DevWindow = Choice(parse.GetValue(devWindow)!, "--dev-window", ("prefix", DevWindowKind.Prefix), ("random", DevWindowKind.Random)),
            };
            var cadence = checkpoints.Get(parse);
            options = options with { CheckpointEvery = cadence.EverySteps, CheckpointMinutes = cadence.EveryMinutes };
            var result = ProgressDisplay.Run(progress => RnaTrainRun.Run(options, progress, CommonOptions.GivenOptions(parse, command)));
            return CommonOptions.ReportFinished(result.Fit, $"dev {options.Select}", dir);
        });
        return command;
    }

    private static Command Eval()
    {
        var modelDir = new Option<string?>("--model") { Description = $"Model directory written by 'rna train' (default: the bundled model {BundledRnaModel.Name}, docs/models/{BundledRnaModel.Name}.md)." };
        var data = new Option<string>("--data") { Description = "Records to score: a file in any supported format or a directory of files." };
        var maxLength = new Option<int?>("--max-length") { Description = "Truncate sequences to this length (pairs leaving the prefix become unpaired)." };
        var limit = new Option<int?>("--limit") { Description = "Score only the first N records." };
        var tile = TileOption();
        var device = CommonOptions.Device();
        var decoder = new DecoderOptions();
        var command = new Command("eval", "Score a trained model (by default the bundled one) at full length, one sequence at a time: per-sequence PPV, sensitivity, accuracy, F1 and MCC, "
                + "then the means overall and by length bin (< 100, 100-200, 200-500, >= 500 nt), on all and on nested pairs, next to the all-unpaired baseline.")
            { modelDir, data, maxLength, limit, tile, device, CommonOptions.Threads(), CommonOptions.Convolution() };
        decoder.AddTo(command);
        command.SetAction(parse =>
        {
            string? dir = parse.GetValue(modelDir);
            string path = parse.GetValue(data) ?? throw new ArgumentException("--data is required.");
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            if (dir is not null) RnaModelSpec.Load(dir); // fail fast on a wrong model directory
            var dataset = RnaDataSet.Load(path);
            dataset.Report(Console.Error); // stdout is the score table, which users redirect to a file
            IEnumerable<RnaStructure> records = dataset.Records;
            if (parse.GetValue(limit) is int n) records = records.Take(CommonOptions.Positive(n, "--limit"));
            var list = records.ToList();
            if (list.Count == 0) throw new InvalidDataException($"{path}: no records to evaluate.");
            var (model, spec, weights) = BundledRnaModel.LoadOrDefault(dir, dev);
            using (model)
            {
                Console.WriteLine($"{(spec.Symmetric ? "SCNN" : "CNN")} from {weights}, {model.ParameterCount} free parameters; {list.Count} records from {path}");
                Console.WriteLine(RnaTrainRun.Header);
                var preds = RnaPredictor.Evaluate(model, list, decoder.Get(parse), dev, parse.GetValue(maxLength),
                    new TiledInferenceOptions { TileSize = parse.GetValue(tile) == 0 ? 0 : CommonOptions.Positive(parse.GetValue(tile), "--tile") }, (p, _) => Console.WriteLine(RnaTrainRun.FormatRow(p)));
                Console.Write(RnaScoreTable.Format(RnaScoreTable.Rows(preds)));
                Console.WriteLine(RnaTrainRun.FormatMean(PairMetrics.Average(preds.Select(p => p.Scores))));
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// <c>rna predict</c> without <c>--threads</c> runs queries shorter than this on one torch thread: their inference is a
    /// short chain of small ops, where a second intra-op thread gains a few tens of ms on a quiet machine but stalls for
    /// seconds next to busy processes (120 nt at load ≈ 10 on 2 cores: 0.9 s with one thread, 1.1–5.9 s with two).
    /// </summary>
    private const int SingleThreadBelowLength = 500;

    private static Command Predict()
    {
        var modelDir = new Option<string?>("--model") { Description = $"Model directory written by 'rna train' (default: the bundled model {BundledRnaModel.Name}, docs/models/{BundledRnaModel.Name}.md); with --engine onnx the .onnx file written by 'export onnx' (required)." };
        var engine = new Option<string>("--engine") { Description = "torchsharp (the model directory, tiled inference) or onnx (an exported graph in ONNX Runtime, whole map at once).", DefaultValueFactory = _ => "torchsharp" };
        var seq = new Option<string?>("--seq") { Description = "One sequence (ACGU…; T reads as U, other letters as N)." };
        var fasta = new Option<string?>("--fasta") { Description = "FASTA file of sequences, or a structure file in any supported format (its structure is drawn for comparison)." };
        var outDir = new Option<string>("--out") { Description = "Output folder for CT files and heatmaps.", DefaultValueFactory = _ => "rna-predictions" };
        var tile = TileOption();
        var device = CommonOptions.Device();
        var decoder = new DecoderOptions(minHairpinDefault: 3);
        var threads = CommonOptions.Threads();
        threads.Description += $" Without it, queries all shorter than {SingleThreadBelowLength} nt run on one thread.";
        var command = new Command("predict", "Predict secondary structures: dot-bracket on stdout, a CT file and a heatmap PNG per sequence.")
            { modelDir, engine, seq, fasta, outDir, tile, device, threads, CommonOptions.Convolution() };
        decoder.AddTo(command);
        command.SetAction(parse =>
        {
            string? dir = parse.GetValue(modelDir);
            string engineName = parse.GetValue(engine)!.Trim().ToLowerInvariant();
            if (engineName is not ("torchsharp" or "onnx")) throw new ArgumentException($"--engine {engineName}: expected torchsharp or onnx.");
            if (engineName == "onnx" && dir is null)
                throw new ArgumentException($"--engine onnx needs --model FILE.onnx (the bundled model {BundledRnaModel.Name} runs in TorchSharp; 'export onnx' writes a graph of a model directory).");
            string? s = parse.GetValue(seq), f = parse.GetValue(fasta);
            if ((s is null) == (f is null)) throw new ArgumentException("give exactly one of --seq ACGU… or --fasta FILE.");
            var queries = s is not null ? new List<RnaQuery> { RnaQueries.FromSequence(s) } : RnaQueries.FromFile(f!);
            string output = parse.GetValue(outDir)!;
            var decoding = decoder.Get(parse);
            var tiles = new TiledInferenceOptions { TileSize = CommonOptions.Positive(parse.GetValue(tile), "--tile") };
            var dev = CommonOptions.ParseDevice(parse.GetValue(device)!);
            int threadsBefore = TorchSharp.torch.get_num_threads(); // restored after the job: the count is process-wide
            if (parse.GetResult(threads) is null or { Implicit: true } && queries.All(q => q.Sequence.Length < SingleThreadBelowLength))
                TorchSharp.torch.set_num_threads(1);
            try
            {
                IRnaPairEngine pairEngine = engineName == "onnx" ? new EquiSharp.Interop.Onnx.OnnxRnaEngine(dir!) : TorchSharpRnaEngine.Load(dir, dev, tiles);
                if (dir is null) Console.Error.WriteLine($"model: {pairEngine.Description} (no --model given)");
                var job = new RnaPredictOptions(dir, queries, decoding, tiles, output, dev, pairEngine);
                RnaPredictJob.Run(job, p =>
                {
                    Console.WriteLine($">{p.Query.Name}");
                    Console.WriteLine(p.Query.Sequence);
                    Console.WriteLine(p.DotBracket);
                    if (p.DroppedPairs > 0)
                        Console.Error.WriteLine($"{p.Query.Name}: {p.DroppedPairs} pair(s) need more than {DotBracket.MaxLevels} pseudoknot levels and are shown as '.' (the CT file has them)");
                    if (p.Scores is { } sc)
                        Console.Error.WriteLine(FormattableString.Invariant($"{p.Query.Name}: ppv={sc.Ppv:0.0000} sen={sc.Sensitivity:0.0000} acc={sc.Accuracy:0.0000} f1={sc.F1:0.0000}"));
                });
            }
            finally { TorchSharp.torch.set_num_threads(threadsBefore); }
            Console.Error.WriteLine($"wrote {queries.Count} CT file(s) and heatmap(s) to {Path.GetFullPath(output)}");
            return 0;
        });
        return command;
    }


    /// <summary>A named architecture size, checked (see <see cref="RnaModelConfig.Named"/>).</summary>
    private static string ParseSize(string text)
    {
        RnaModelConfig.Named(text);
        return text.Trim().ToLowerInvariant();
    }

    /// <summary>The value of one of the named choices of <paramref name="option"/> (case-insensitive).</summary>
    private static T Choice<T>(string text, string option, params (string Name, T Value)[] choices) =>
        choices.FirstOrDefault(c => c.Name == text.Trim().ToLowerInvariant()) is var hit && hit.Name is not null ? hit.Value
            : throw new ArgumentException($"{option} {text}: expected {string.Join(" or ", choices.Select(c => c.Name))}.");

    private static PairActivation ParseActivation(string text) => text.Trim().ToLowerInvariant() switch
    {
        "relu" => PairActivation.ReLU,
        "sigmoid" => PairActivation.Sigmoid,
        _ => throw new ArgumentException($"--activation {text}: expected relu or sigmoid."),
    };
}
