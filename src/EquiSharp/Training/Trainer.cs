using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Training;

/// <summary>What an application supplies to the shared training loop.</summary>
public interface ITrainingTask<TBatch>
{
    /// <summary>The model being trained (saved in checkpoints).</summary>
    nn.Module Model { get; }
    /// <summary>The batches of one epoch; must depend only on <paramref name="epoch"/> and <paramref name="rng"/> so resume is exact.</summary>
    IReadOnlyList<TBatch> EpochBatches(int epoch, Random rng);
    /// <summary>Training loss of one batch (scalar, differentiable). Called in training mode inside a dispose scope.</summary>
    Tensor Loss(TBatch batch);
    /// <summary>Evaluation on held-out data after each epoch (eval mode, no grad). Higher score is better.</summary>
    EvalResult Evaluate();
}

/// <summary>Dev metrics of one evaluation and the score used for model selection and early stopping.</summary>
public sealed record EvalResult(double Score, Dictionary<string, double> Metrics);

/// <summary>Options of the shared training loop.</summary>
public sealed record TrainerOptions
{
    public int Epochs { get; init; } = 10;
    /// <summary>
    /// The step cap (the one mechanism; <c>--max-steps</c> of every training command): the run takes at most this many
    /// optimizer steps in total, counted over every session of the run. When the last allowed step falls inside an
    /// epoch, that epoch ends there: it is evaluated, recorded, selected and checkpointed like any epoch (a shorter one),
    /// so a capped run always ends with a dev evaluation, best weights and curves. A resumed run with a larger cap
    /// starts the next epoch (the cut one stays cut), so a cap followed by a larger one trains exactly as one run with
    /// the larger cap only when the first cap falls on an epoch boundary; an exact pause is SIGINT or a killed run
    /// resumed from its <see cref="Checkpoints"/>. Null = no cap.
    /// </summary>
    public long? MaxSteps { get; init; }
    /// <summary>
    /// A compute budget (<c>--max-cpu-hours</c>): processor time of the training process (every thread; data, steps and
    /// evaluation), summed over every session of the run. It ends the run like <see cref="MaxSteps"/>: the epoch in which
    /// the budget runs out ends at that step and is evaluated, selected and checkpointed. Null = no budget.
    /// </summary>
    public double? MaxCpuHours { get; init; }
    public int Seed { get; init; } = 1;
    /// <summary>Stop after this many epochs without a better dev score; null = never.</summary>
    public int? Patience { get; init; } = 5;
    /// <summary>Where checkpoints, the best model and the history go; null = nothing is written.</summary>
    public string? OutDir { get; init; }
    /// <summary>Continue from the checkpoint in <see cref="OutDir"/>.</summary>
    public bool Resume { get; init; }
    public string Title { get; init; } = "train";
    /// <summary>Stop cleanly (checkpoint, then return) on SIGINT / Ctrl-C.</summary>
    public bool HandleInterrupt { get; init; } = true;
    /// <summary>Checkpoints besides those at epoch ends: every N steps and/or every M minutes (default: every 10 minutes).</summary>
    public CheckpointCadence Checkpoints { get; init; } = CheckpointCadence.Default;
    /// <summary>Changes the learning rate between epochs from the selection score (e.g. <see cref="ReduceOnPlateau"/>); null = constant.</summary>
    public ILearningRateSchedule? Schedule { get; init; }
    /// <summary>Clip the gradients' global L2 norm to this before each step; null = no clipping.</summary>
    public double? ClipGradientNorm { get; init; }
    /// <summary>The dev metric that selects the best epoch and drives early stopping and the schedule (default: the task's score).</summary>
    public SelectionMetric Select { get; init; } = SelectionMetric.TaskScore;
    /// <summary>Called after every epoch, once it is checkpointed, with the run's state (its history ends with the epoch's record): e.g. curves, memory measurements, extra logging.</summary>
    public Action<TrainingState>? OnEpochEnd { get; init; }
}

/// <summary>How a run ended (<paramref name="ReachedMaxSteps"/>: a cap — steps or CPU budget, named by <see cref="Cap"/> — ended it before its epochs ran out).</summary>
public sealed record TrainingResult(TrainingState State, bool Interrupted, bool ReachedMaxSteps, bool EarlyStopped)
{
    /// <summary>The run ended by its epochs, early stopping or the step cap (not by an interrupt): its final report is due.</summary>
    public bool Completed => !Interrupted && (State.Finished || ReachedMaxSteps || EarlyStopped);
    /// <summary>Which cap ended the run when <see cref="ReachedMaxSteps"/>: "max-steps" or "max-cpu-hours".</summary>
    public string Cap { get; init; } = "max-steps";
}

/// <summary>
/// The one training loop of EquiSharp: seeded data order, dispose scopes per step, evaluation hooks, early stopping,
/// atomic checkpoints holding model, optimizer, RNG and loop state at every epoch end and by <see cref="CheckpointCadence"/>
/// in between (so <c>--resume</c> continues exactly, also after a SIGKILL mid-epoch), clean
/// stop on SIGINT, and progress reporting.
/// </summary>
public static class Trainer
{
    /// <summary>Derives the per-epoch data seed from the run seed (order of batches and random crops), stable across processes.</summary>
    public static int EpochSeed(int seed, int epoch) => Seeds.Derive(seed, Seeds.DataOrderStream, epoch);

    public static TrainingResult Fit<TBatch>(ITrainingTask<TBatch> task, OptimizerHelper optimizer, TrainerOptions options, ITrainingProgress progress)
    {
        var model = task.Model;
        var state = new TrainingState();
        if (options.Resume)
        {
            if (options.OutDir is null) throw new ArgumentException("Resuming needs an output directory holding a checkpoint.");
            state = Checkpoint.Load(options.OutDir, model, optimizer)
                ?? throw new FileNotFoundException($"No checkpoint to resume from in '{options.OutDir}' (expected {Path.Combine(options.OutDir, Checkpoint.LatestName)}/state.json).");
            progress.Message($"resumed from {options.OutDir} at epoch {state.Epoch + 1}, step {state.Step}");
            if (state.LearningRate is double lr) LearningRates.Set(optimizer, lr); // the schedule's rate, whatever the optimizer file holds
            if (state.Finished && state.StopReason == "epochs" && state.Epoch < options.Epochs)
            {
                // a run that used up its epochs continues when given more; an early-stopped one stays finished
                state = state with { Finished = false, StopReason = "" };
                progress.Message($"extending the finished run: epoch {state.Epoch} of now {options.Epochs}");
            }
            if (state.Finished) return new TrainingResult(state, false, false, state.StopReason == "early-stopping");
        }

        var stop = new StopFlag();
        using var registration = options.HandleInterrupt ? PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Requested = true; }) : null;
        var stepsPerEpoch = task.EpochBatches(0, new Random(EpochSeed(options.Seed, 0))).Count;
        long total = stepsPerEpoch * (long)options.Epochs;
        if (options.MaxSteps is long cap)
        {
            if (cap <= 0) throw new ArgumentException($"--max-steps {cap}: expected a positive number.");
            total = Math.Min(total, cap);
        }
        progress.Start(options.Title, total, state.Step);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double secondsBefore = state.TrainSeconds, cpuBefore = state.TrainCpuSeconds;
        var cpuAtStart = Environment.CpuUsage.TotalTime; // this process, all threads
        double CpuSeconds() => cpuBefore + (Environment.CpuUsage.TotalTime - cpuAtStart).TotalSeconds;
        if (options.MaxCpuHours is double budget && !(budget > 0)) throw new ArgumentException($"--max-cpu-hours {budget}: expected a positive number.");

        var cadence = options.Checkpoints.Validated();
        var sinceSave = System.Diagnostics.Stopwatch.StartNew();
        long stepsSinceSave = 0;
        TrainingState Snapshot(TrainingState s) => s with { TrainSeconds = secondsBefore + clock.Elapsed.TotalSeconds, TrainCpuSeconds = CpuSeconds() };
        // the cap that has been reached, if any ("max-steps" or "max-cpu-hours")
        string? CapReached(TrainingState s) =>
            options.MaxSteps is long max && s.Step >= max ? "max-steps"
            : options.MaxCpuHours is double h && CpuSeconds() >= h * 3600 ? "max-cpu-hours" : null;
        void Save(TrainingState s)
        {
            if (options.OutDir is not null) Checkpoint.Save(options.OutDir, model, optimizer, s);
            stepsSinceSave = 0;
            sinceSave.Restart();
        }

        for (int epoch = state.Epoch; epoch < options.Epochs; epoch++)
        {
            if (state.StepInEpoch == 0 && CapReached(state) is string startCap) return new TrainingResult(state, false, true, false) { Cap = startCap };
            var batches = task.EpochBatches(epoch, new Random(EpochSeed(options.Seed, epoch)));
            for (int i = state.StepInEpoch; i < batches.Count; i++)
            {
                if (CapReached(state) is not null) break; // the cap cuts this epoch here; it is evaluated below like any epoch
                double lossValue;
                using (var scope = NewDisposeScope())
                {
                    model.train();
                    optimizer.zero_grad();
                    var loss = task.Loss(batches[i]);
                    loss.backward();
                    if (options.ClipGradientNorm is double clip) nn.utils.clip_grad_norm_(model.parameters(), clip);
                    optimizer.step();
                    lossValue = loss.item<float>();
                }
                if (!double.IsFinite(lossValue))
                    throw new InvalidOperationException($"Training loss became {lossValue} at step {state.Step + 1}; the last checkpoint in '{options.OutDir}' is intact.");
                state = state with
                {
                    Epoch = epoch, StepInEpoch = i + 1, Step = state.Step + 1,
                    EpochLossSum = state.EpochLossSum + lossValue, EpochLossCount = state.EpochLossCount + 1,
                };
                progress.Step(state.Step, lossValue);
                if (cadence.Due(++stepsSinceSave, sinceSave.Elapsed) && !stop.Requested)
                {
                    state = Snapshot(state);
                    Save(state);
                }
                if (stop.Requested)
                {
                    state = Snapshot(state);
                    Save(state);
                    progress.Message($"interrupted: checkpoint saved at step {state.Step} in {options.OutDir ?? "(no output directory)"}");
                    return new TrainingResult(state, true, false, false);
                }
            }

            // end of epoch: evaluate, select, maybe stop early, checkpoint
            EvalResult eval;
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                model.eval();
                eval = task.Evaluate();
                model.train();
            }
            double score = options.Select.Score(eval);
            var record = new EpochRecord(epoch + 1, state.Step, state.EpochLossSum / Math.Max(1, state.EpochLossCount), eval.Metrics, score,
                secondsBefore + clock.Elapsed.TotalSeconds);
            bool improved = score > state.BestScore;
            state = state with
            {
                Epoch = epoch + 1, StepInEpoch = 0, EpochLossSum = 0, EpochLossCount = 0,
                History = state.History.Append(record).ToList(),
                BestScore = improved ? score : state.BestScore,
                BestEpoch = improved ? epoch + 1 : state.BestEpoch,
                EpochsWithoutImprovement = improved ? 0 : state.EpochsWithoutImprovement + 1,
            };
            progress.Message(FormatEpoch(record, improved));
            if (options.Schedule is ILearningRateSchedule schedule)
            {
                var scheduleState = new Dictionary<string, double>(state.Schedule);
                double before = LearningRates.Get(optimizer), after = schedule.Next(before, score, scheduleState);
                if (after != before)
                {
                    LearningRates.Set(optimizer, after);
                    progress.Message(FormattableString.Invariant($"learning rate {before:G4} -> {after:G4} ({schedule.Describe()})"));
                }
                state = state with { Schedule = scheduleState, LearningRate = after };
            }
            if (improved && options.OutDir is not null) Checkpoint.Save(options.OutDir, model, null, Snapshot(state), Checkpoint.BestName);
            bool early = options.Patience is int p && state.EpochsWithoutImprovement >= p;
            if (early || epoch + 1 == options.Epochs)
                state = state with { Finished = true, StopReason = early ? "early-stopping" : "epochs" };
            state = Snapshot(state);
            Save(state);
            options.OnEpochEnd?.Invoke(state);
            if (early) return new TrainingResult(state, false, false, true);
            if (stop.Requested) return new TrainingResult(state, true, false, false);
            if (!state.Finished && CapReached(state) is string endCap) return new TrainingResult(state, false, true, false) { Cap = endCap };
        }
        return new TrainingResult(state, false, false, false);
    }


    private static string FormatEpoch(EpochRecord r, bool improved) =>
        FormattableString.Invariant($"epoch {r.Epoch}: train_loss={r.TrainLoss:0.0000} ") +
        string.Join(" ", r.Dev.Select(kv => FormattableString.Invariant($"dev_{kv.Key}={kv.Value:0.0000}"))) +
        (improved ? " (best)" : "");

    private sealed class StopFlag { public volatile bool Requested; }
}
