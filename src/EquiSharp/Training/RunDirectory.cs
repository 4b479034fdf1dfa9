using System.Globalization;
using System.Text;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Training;

/// <summary>The weights a run directory chose for evaluation: <c>best/</c> (dev-selected), else the latest checkpoint.</summary>
public sealed record SelectedWeights(string Folder, bool Best, TrainingState State)
{
    /// <summary>"best weights (epoch 3, dev accuracy 0.9123)" or "latest weights (step 40)".</summary>
    public string Describe(string scoreName) => Best
        ? string.Create(CultureInfo.InvariantCulture, $"best weights (epoch {State.BestEpoch}, {scoreName} {State.BestScore:0.0000})")
        : $"latest weights (step {State.Step})";
}

/// <summary>
/// The directory of one training run, shared by every application: it is created by a new run (which refuses a
/// directory that already holds one) or reopened by <c>--resume</c>; it holds the run's typed records
/// (<see cref="VersionedJsonFile{T}"/>, e.g. <c>run.json</c>), the saved dev split (<see cref="Training.DevSplit"/>), the
/// checkpoints (<c>checkpoint/</c>, <c>best/</c>; resume and extension go through <see cref="Checkpoint"/> and
/// <see cref="Trainer"/> only), the curves (<c>curves.csv</c> and <c>curves.png</c>) and the final report. An application's
/// runner reads its data, builds its model and task, and calls <see cref="Train"/>; everything around
/// <see cref="Trainer.Fit"/> is here.
/// </summary>
public sealed class RunDirectory
{
    public const string CurvesName = "curves.png";
    public const string HistoryName = "curves.csv";

    /// <summary>The directory.</summary>
    public string Path { get; }
    /// <summary>True when the run continues (<c>--resume</c>); false for a new run.</summary>
    public bool Resuming { get; }

    private RunDirectory(string path, bool resuming) { Path = path; Resuming = resuming; }

    /// <summary>A new run in <paramref name="dir"/> (created when first written): refused if it already holds a trained run.</summary>
    /// <exception cref="IOException">The directory holds a checkpoint.</exception>
    public static RunDirectory StartNew(string dir) => Checkpoint.Locate(dir) is null ? new RunDirectory(dir, false)
        : throw new IOException($"{dir} already holds a run; use --resume {dir} to continue it or choose another --out.");

    /// <summary>An existing run directory (to resume it, or to evaluate its model).</summary>
    /// <exception cref="DirectoryNotFoundException">There is no such directory.</exception>
    public static RunDirectory Existing(string dir) => Directory.Exists(dir) ? new RunDirectory(dir, true)
        : throw new DirectoryNotFoundException($"{dir}: not a run directory (there is no such directory).");

    /// <summary><see cref="Existing"/> when resuming, else <see cref="StartNew"/>.</summary>
    public static RunDirectory Open(string dir, bool resume) => resume ? Existing(dir) : StartNew(dir);

    /// <summary>The full path of a file of the run.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>A record the run wrote (<paramref name="command"/> names what writes it, for the error).</summary>
    /// <exception cref="FileNotFoundException">The directory does not hold the record.</exception>
    public T Read<T>(VersionedJsonFile<T> file, string command) where T : class => file.TryLoad(Path)
        ?? throw new FileNotFoundException($"{Path}: not a run directory of '{command}' (no {file.FileName}); start a run there with --out {Path}.", File(file.FileName));

    /// <summary>
    /// The options of a resumed run: those recorded in its run.json, with the ones given again on the command line
    /// (<paramref name="givenNames"/>) applied by their <see cref="ResumePolicy"/> (<see cref="RunOptions.Resume{T}"/>).
    /// </summary>
    public T ResumeOptions<T>(T given, IReadOnlySet<string> givenNames, Action<string> warn, string command) where T : class =>
        RunOptions.Resume(Read(RunOptions.File<T>(), command), given, givenNames, warn);

    /// <summary>Writes a record of the run (atomically, with its format version).</summary>
    public void Write<T>(VersionedJsonFile<T> file, T value) where T : class => file.Save(Path, value);

    /// <summary>
    /// The run's dev split of <paramref name="names"/> (the training records in order): a resumed run reads its own;
    /// a new run reuses <paramref name="fromFile"/> (another run's dev-split.json) or draws one with
    /// <paramref name="seed"/>, and saves it.
    /// </summary>
    /// <exception cref="InvalidDataException">A stored split does not fit <paramref name="names"/>.</exception>
    public DevSplit DevSplit(IReadOnlyList<string> names, int seed, double fraction, string? fromFile = null)
    {
        if (Resuming) return Training.DevSplit.LoadFile(File(Training.DevSplit.FileName), names);
        var split = fromFile is not null ? Training.DevSplit.LoadFile(fromFile, names) : Training.DevSplit.Create(names, seed, fraction);
        split.Save(Path);
        return split;
    }

    /// <summary>
    /// Before a resumed run writes anything: checks every file of its latest checkpoint against <paramref name="model"/>,
    /// so a resume that fails changes nothing in the directory. Returns whether the run continues from a checkpoint
    /// (a run stopped during its first epoch has none, and starts again with its recorded settings).
    /// </summary>
    /// <exception cref="UnreadableCheckpointException">Names the first unusable file.</exception>
    public bool VerifyCheckpoint(nn.Module model, ITrainingProgress progress)
    {
        if (!Resuming) return false;
        if (Checkpoint.Locate(Path) is not string checkpoint)
        {
            progress.Message($"no checkpoint in {Path} yet (stopped during the first epoch): starting it again with the recorded settings");
            return false;
        }
        Checkpoint.Verify(checkpoint, model);
        return true;
    }

    /// <summary>
    /// Trains with the shared <see cref="Trainer"/> in this directory (checkpoints, best weights; continuing and, with
    /// more epochs, extending a resumed run from its checkpoint), writing the curves (<see cref="WriteCurves"/>) after
    /// every epoch — a run killed between epochs still shows all it has done — and at the end if no epoch of this
    /// process wrote them (a resumed run that had nothing left to do).
    /// <paramref name="options"/>' <see cref="TrainerOptions.OutDir"/> and <see cref="TrainerOptions.Resume"/> are set here.
    /// </summary>
    public TrainingResult Train<TBatch>(ITrainingTask<TBatch> task, OptimizerHelper optimizer, TrainerOptions options, ITrainingProgress progress, string curvesTitle)
    {
        Directory.CreateDirectory(Path);
        var onEpochEnd = options.OnEpochEnd;
        bool written = false;
        var fit = Trainer.Fit(task, optimizer, options with
        {
            OutDir = Path, Resume = Resuming && Checkpoint.Locate(Path) is not null,
            OnEpochEnd = state => { WriteCurves(state.History, curvesTitle); written = true; onEpochEnd?.Invoke(state); },
        }, progress);
        if (!written) WriteCurves(fit.State.History, curvesTitle);   // every epoch's end wrote them otherwise: the last one included
        return fit;
    }

    /// <summary>The history as <c>curves.csv</c> (one row per epoch) and <c>curves.png</c> (<see cref="Plots.TrainingCurves"/>); nothing before the first epoch.</summary>
    public void WriteCurves(IReadOnlyList<EpochRecord> history, string title)
    {
        if (history.Count == 0) return;
        Checkpoint.WriteTextAtomic(File(HistoryName), HistoryCsv(history));
        Plots.TrainingCurves(File(CurvesName), history, title);
    }

    /// <summary>epoch, step, train_loss, one dev_NAME column per metric of the first epoch, score, seconds (invariant culture).</summary>
    public static string HistoryCsv(IReadOnlyList<EpochRecord> history)
    {
        var metrics = history.Count > 0 ? history[0].Dev.Keys.ToList() : new List<string>();
        var csv = new StringBuilder("epoch,step,train_loss").Append(string.Concat(metrics.Select(m => $",dev_{m}"))).Append(",score,seconds\n");
        string Number(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        foreach (var r in history)
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{r.Epoch},{r.Step},{Number(r.TrainLoss)}"))
               .Append(string.Concat(metrics.Select(m => "," + Number(Plots.MetricOf(r, m)))))
               .Append($",{Number(r.Score)},{Number(r.Seconds)}\n");
        return csv.ToString();
    }

    /// <summary>Loads the weights to evaluate into <paramref name="model"/> (eval mode): <c>best/</c>, else the latest checkpoint.</summary>
    /// <exception cref="FileNotFoundException">No epoch has been checkpointed.</exception>
    /// <exception cref="UnreadableCheckpointException">The weights are unusable.</exception>
    public SelectedWeights LoadSelectedWeights(nn.Module model)
    {
        foreach (var name in new[] { Checkpoint.BestName, Checkpoint.LatestName })
            if (Checkpoint.Load(Path, model, restoreRng: false, name: name) is TrainingState state)
            {
                model.eval();
                return new SelectedWeights(File(name), name == Checkpoint.BestName, state);
            }
        throw new FileNotFoundException($"{Path}: no trained weights (expected {File(Checkpoint.BestName)}/ or {File(Checkpoint.LatestName)}/).");
    }

    /// <summary>Whether the report <paramref name="name"/> exists and begins with <paramref name="firstLine"/> (a resumed, finished run does not repeat it).</summary>
    public bool HasReport(string name, string firstLine) => System.IO.File.Exists(File(name)) && System.IO.File.ReadLines(File(name)).FirstOrDefault() == firstLine;

    /// <summary>Writes the final report (atomically).</summary>
    public void WriteReport(string name, string text) => Checkpoint.WriteTextAtomic(File(name), text);

    /// <summary>"12,345 free parameters (67,890 <paramref name="denseMeaning"/>)": a model's own count next to its dense equivalent's.</summary>
    public static string FreeParameters(long free, long dense, string denseMeaning) =>
        string.Create(CultureInfo.InvariantCulture, $"{free:N0} free parameters ({dense:N0} {denseMeaning})");

    /// <summary>"A 1,234 vs B 5,678 free parameters (ratio 0.2173)": a symmetric model against its plain counterpart.</summary>
    public static string ParameterComparison(string symmetricName, long symmetric, string plainName, long plain) =>
        string.Create(CultureInfo.InvariantCulture, $"{symmetricName} {symmetric:N0} vs {plainName} {plain:N0} free parameters (ratio {(double)symmetric / plain:0.0000})");
}
