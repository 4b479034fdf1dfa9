using System.Diagnostics;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Applications.Rna.Training;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Training;

[Collection("training")]
public class TrainerTests
{
    private static readonly RnaModelConfig Tiny = RnaModelConfig.Small with { LstmUnits = 4, DenseFeatures = 3, EncoderChannels = 6, SkipChannels = 2,
        Stages = new[] { new (long, long)[] { (5, 4), (3, 2) } } };

    private static (RnaPairModel Model, RnaTrainingTask Task, TorchSharp.Modules.OptimizerHelper Optimizer) Setup(int seed)
    {
        var data = SyntheticRna.Generate(24, 16, 28, seed: 3);
        manual_seed(seed);
        var model = new RnaPairModel(Tiny, symmetric: true);
        var task = new RnaTrainingTask(model, data.Take(20).ToList(), data.Skip(20).ToList(),
            new RnaTrainingOptions { Crop = 24, BatchSize = 4, DevMaxLength = 28 }, CPU);
        return (model, task, Optimizers.Adam(model.parameters(), 5e-3));
    }

    /// <summary>
    /// The task with a stochastic layer: dropout on the logits (one torch RNG draw per step), so a resume that does
    /// not restore the RNG exactly trains on other masks and ends with other weights.
    /// </summary>
    private sealed class DropoutTask(RnaTrainingTask inner) : ITrainingTask<EquiSharp.Applications.Rna.RnaWindow[]>
    {
        public nn.Module Model => inner.Model;
        public IReadOnlyList<EquiSharp.Applications.Rna.RnaWindow[]> EpochBatches(int epoch, Random rng) => inner.EpochBatches(epoch, rng);
        public Tensor Loss(EquiSharp.Applications.Rna.RnaWindow[] batch) => inner.Loss(batch) * nn.functional.dropout(ones(8), 0.5, training: true).mean();
        public EvalResult Evaluate() => inner.Evaluate();
    }

    /// <summary>Fails at one step (as a killed process would stop), after the steps before it ran normally.</summary>
    private sealed class CrashingTask(ITrainingTask<EquiSharp.Applications.Rna.RnaWindow[]> inner, int crashAtCall) : ITrainingTask<EquiSharp.Applications.Rna.RnaWindow[]>
    {
        private int calls;
        public nn.Module Model => inner.Model;
        public IReadOnlyList<EquiSharp.Applications.Rna.RnaWindow[]> EpochBatches(int epoch, Random rng) => inner.EpochBatches(epoch, rng);
        public Tensor Loss(EquiSharp.Applications.Rna.RnaWindow[] batch) =>
            ++calls == crashAtCall ? throw new OperationCanceledException("simulated kill") : inner.Loss(batch);
        public EvalResult Evaluate() => inner.Evaluate();
    }

    private static float[][] Parameters(nn.Module m) => m.parameters().Select(p => p.detach().contiguous().data<float>().ToArray()).ToArray();

    /// <summary>
    /// A run stopped by the step cap on an epoch boundary (5 steps per epoch here) and resumed with a larger cap trains
    /// bit-identically to one run with the larger cap: model, optimizer and RNG all come from the checkpoint.
    /// </summary>
    [Fact]
    public void ResumedRunGivesBitIdenticalParameters()
    {
        using var dir = new TempDir();
        var options = new TrainerOptions { Epochs = 3, Seed = 5, Patience = null, HandleInterrupt = false };

        var (a, taskA, optA) = Setup(7);
        Trainer.Fit(new DropoutTask(taskA), optA, options with { MaxSteps = 12 }, new PlainLineProgress(TextWriter.Null));

        var (b, taskB, optB) = Setup(7);
        var first = Trainer.Fit(new DropoutTask(taskB), optB, options with { MaxSteps = 5, OutDir = dir.Path }, new PlainLineProgress(TextWriter.Null));
        Assert.True(first.ReachedMaxSteps);
        Assert.Equal(5, first.State.Step);

        var (c, taskC, optC) = Setup(99); // different init and RNG: everything must come from the checkpoint
        var second = Trainer.Fit(new DropoutTask(taskC), optC, options with { MaxSteps = 12, OutDir = dir.Path, Resume = true }, new PlainLineProgress(TextWriter.Null));
        Assert.Equal(12, second.State.Step);

        var pa = Parameters(a); var pc = Parameters(c);
        Assert.Equal(pa.Length, pc.Length);
        for (int k = 0; k < pa.Length; k++) Assert.Equal(pa[k], pc[k]); // bit-identical
        Assert.NotEqual(Parameters(b)[0], pc[0]);                       // and the resume really trained further
    }

    /// <summary>
    /// The CPU budget counts the processor time of every session of a run (recorded in the checkpoint): a resume whose
    /// budget the earlier sessions already used trains nothing more and says which cap stopped it; a larger budget
    /// continues, and the recorded time only grows.
    /// </summary>
    [Fact]
    public void TheCpuBudgetIsCountedAcrossSessions()
    {
        using var dir = new TempDir();
        var options = new TrainerOptions { Epochs = 1, Seed = 5, Patience = null, HandleInterrupt = false, OutDir = dir.Path };
        var (_, task, opt) = Setup(7); // 5 steps per epoch
        var first = Trainer.Fit(task, opt, options, new PlainLineProgress(TextWriter.Null));
        Assert.Equal(5, first.State.Step);
        double used = first.State.TrainCpuSeconds;
        Assert.True(used > 0, $"recorded CPU seconds: {used}");

        var (_, task2, opt2) = Setup(7);
        var spent = Trainer.Fit(task2, opt2, options with { Epochs = 3, MaxCpuHours = used / 2 / 3600, Resume = true }, new PlainLineProgress(TextWriter.Null));
        Assert.True(spent.ReachedMaxSteps);
        Assert.Equal("max-cpu-hours", spent.Cap);
        Assert.Equal(5, spent.State.Step);             // the budget was used up by the first session
        Assert.Single(spent.State.History);

        var (_, task3, opt3) = Setup(7);
        var more = Trainer.Fit(task3, opt3, options with { Epochs = 2, MaxCpuHours = 1000, Resume = true }, new PlainLineProgress(TextWriter.Null));
        Assert.False(more.ReachedMaxSteps);
        Assert.Equal(10, more.State.Step);
        Assert.True(more.State.TrainCpuSeconds > used);
        Assert.Throws<ArgumentException>(() => Trainer.Fit(task3, opt3, options with { Epochs = 3, MaxCpuHours = 0, Resume = true }, new PlainLineProgress(TextWriter.Null)));
    }

    /// <summary>
    /// The step cap counts steps over every session of a run and ends the epoch it falls in with an evaluation (a
    /// shorter epoch with best weights); a larger cap on resume starts the next epoch and stops exactly at the new cap.
    /// </summary>
    [Fact]
    public void TheStepCapEndsTheEpochItFallsInAndCountsStepsAcrossResumes()
    {
        using var dir = new TempDir();
        var options = new TrainerOptions { Epochs = 10, Seed = 5, Patience = null, HandleInterrupt = false, OutDir = dir.Path };
        var (_, task, opt) = Setup(7); // 5 steps per epoch
        var first = Trainer.Fit(task, opt, options with { MaxSteps = 7 }, new PlainLineProgress(TextWriter.Null));
        Assert.True(first.ReachedMaxSteps);
        Assert.False(first.State.Finished);
        Assert.Equal(new long[] { 5, 7 }, first.State.History.Select(h => h.Step)); // epoch 2 cut after 2 of its 5 steps, and evaluated
        Assert.True(Directory.Exists(Path.Combine(dir.Path, Checkpoint.BestName)));

        var (_, task2, opt2) = Setup(7);
        var again = Trainer.Fit(task2, opt2, options with { MaxSteps = 7, Resume = true }, new PlainLineProgress(TextWriter.Null));
        Assert.True(again.ReachedMaxSteps);
        Assert.Equal(7, again.State.Step);                // the cap is used up: nothing more runs, nothing is evaluated again
        Assert.Equal(2, again.State.History.Count);

        var (_, task3, opt3) = Setup(7);
        var more = Trainer.Fit(task3, opt3, options with { MaxSteps = 13, Resume = true }, new PlainLineProgress(TextWriter.Null));
        Assert.Equal(new long[] { 5, 7, 12, 13 }, more.State.History.Select(h => h.Step)); // epoch 3 in full, epoch 4 cut at the cap

        var (_, task4, opt4) = Setup(7);
        var done = Trainer.Fit(task4, opt4, options with { Epochs = 5, MaxSteps = 100, Resume = true }, new PlainLineProgress(TextWriter.Null));
        Assert.True(done.State.Finished);                 // the epochs ran out first: not a cap stop
        Assert.False(done.ReachedMaxSteps);
        Assert.Equal(18, done.State.Step);               // epoch 5 in full
    }

    /// <summary>
    /// --checkpoint-every: a run that dies mid-epoch resumes from its last step checkpoint (position in the epoch's
    /// batch order, running loss, optimizer, RNG) and ends bit-identical to an uninterrupted run, loss history included.
    /// </summary>
    [Fact]
    public void MidEpochCheckpointsResumeExactlyAfterACrash()
    {
        using var dir = new TempDir();
        var options = new TrainerOptions { Epochs = 2, Seed = 5, Patience = null, HandleInterrupt = false, Checkpoints = new CheckpointCadence { EverySteps = 2, EveryMinutes = null } };

        var (a, taskA, optA) = Setup(7);
        var whole = Trainer.Fit(new DropoutTask(taskA), optA, options, new PlainLineProgress(TextWriter.Null)); // 5 steps per epoch

        var (b, taskB, optB) = Setup(7);
        Assert.Throws<OperationCanceledException>(() =>
            Trainer.Fit(new CrashingTask(new DropoutTask(taskB), crashAtCall: 8), optB, options with { OutDir = dir.Path }, new PlainLineProgress(TextWriter.Null)));
        var atCrash = Checkpoint.ReadState(dir.Path);
        Assert.Equal((1, 2, 7L), (atCrash.Epoch, atCrash.StepInEpoch, atCrash.Step)); // epoch end at step 5, then 2 steps: epoch 2, step 2

        var (c, taskC, optC) = Setup(99);
        var resumed = Trainer.Fit(new DropoutTask(taskC), optC, options with { OutDir = dir.Path, Resume = true }, new PlainLineProgress(TextWriter.Null));
        Assert.Equal(10, resumed.State.Step);
        Assert.Equal(whole.State.History.Select(h => (h.Epoch, h.Step, h.TrainLoss, h.Score)), resumed.State.History.Select(h => (h.Epoch, h.Step, h.TrainLoss, h.Score)));
        var pa = Parameters(a); var pc = Parameters(c);
        for (int k = 0; k < pa.Length; k++) Assert.Equal(pa[k], pc[k]);
    }

    [Fact]
    public void CheckpointCadenceCountsStepsAndMinutesSinceTheLastCheckpoint()
    {
        var every3 = new CheckpointCadence { EverySteps = 3, EveryMinutes = null };
        Assert.False(every3.Due(2, TimeSpan.FromHours(1)));
        Assert.True(every3.Due(3, TimeSpan.Zero));
        Assert.False(CheckpointCadence.Default.Due(1000, TimeSpan.FromMinutes(9.9))); // default: epoch ends and every 10 minutes
        Assert.True(CheckpointCadence.Default.Due(1, TimeSpan.FromMinutes(10)));
        Assert.False(CheckpointCadence.Default.Due(0, TimeSpan.FromMinutes(60)));    // nothing new to save
        Assert.Throws<ArgumentException>(() => new CheckpointCadence { EverySteps = 0 }.Validated());
        Assert.Throws<ArgumentException>(() => new CheckpointCadence { EveryMinutes = -1 }.Validated());
    }

    [Fact]
    public void CheckpointsAreWrittenAtomicallyAndSurviveAnInterruptedSwap()
    {
        using var dir = new TempDir();
        var (model, task, opt) = Setup(1);
        Trainer.Fit(task, opt, new TrainerOptions { Epochs = 1, Patience = null, OutDir = dir.Path, HandleInterrupt = false }, new PlainLineProgress(TextWriter.Null));
        Assert.NotNull(Checkpoint.Locate(dir.Path));
        Assert.Empty(Directory.GetDirectories(dir.Path, ".*tmp*"));
        // a crash between the two renames leaves only ".checkpoint.old": the loader must still find it
        Directory.Move(Path.Combine(dir.Path, Checkpoint.LatestName), Path.Combine(dir.Path, ".checkpoint.old"));
        var (fresh, _, _) = Setup(2);
        var state = Checkpoint.Load(dir.Path, fresh);
        Assert.NotNull(state);
        Assert.Equal(Parameters(model)[0], Parameters(fresh)[0]);
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement()
    {
        var (_, task, opt) = Setup(1);
        var constant = new ConstantScoreTask(task);
        var result = Trainer.Fit(constant, opt, new TrainerOptions { Epochs = 10, Patience = 2, HandleInterrupt = false }, new PlainLineProgress(TextWriter.Null));
        Assert.True(result.EarlyStopped);
        Assert.Equal(3, result.State.History.Count); // best at epoch 1, then 2 epochs without improvement
    }

    /// <summary>The curves are on disk after every epoch, not only when the run ends: a run killed between epochs still shows them.</summary>
    [Fact]
    public void RunDirectoryWritesTheCurvesAfterEveryEpoch()
    {
        using var dir = new TempDir();
        var (_, task, opt) = Setup(1);
        var run = RunDirectory.Open(dir.Path, resume: false);
        var rowsOnDisk = new List<(int Epochs, int Rows)>();
        run.Train(task, opt, new TrainerOptions
        {
            Epochs = 2, Patience = null, HandleInterrupt = false,
            OnEpochEnd = s => rowsOnDisk.Add((s.History.Count, File.ReadAllLines(run.File(RunDirectory.HistoryName)).Length - 1)),
        }, new PlainLineProgress(TextWriter.Null), "curves");
        Assert.Equal(new[] { (1, 1), (2, 2) }, rowsOnDisk);
        Assert.True(File.Exists(run.File(RunDirectory.CurvesName)));
    }

    [Fact]
    public void MemoryStaysFlatAcrossEpochs()
    {
        var (_, task, opt) = Setup(1);
        var rss = new List<long>();
        Trainer.Fit(task, opt, new TrainerOptions
        {
            Epochs = 4, Patience = null, HandleInterrupt = false,
            OnEpochEnd = _ => { GC.Collect(); GC.WaitForPendingFinalizers(); rss.Add(ResidentBytes()); },
        }, new PlainLineProgress(TextWriter.Null));
        Assert.All(rss, r => Assert.True(r > 0, "VmRSS not readable from /proc/self/status"));
        double growth = (double)(rss[2] - rss[0]) / rss[0];
        Assert.True(growth < 0.05, $"RSS grew by {growth:P1} from epoch 1 to epoch 3 ({rss[0]} → {rss[2]} bytes)");
    }

    [Fact]
    public void SigintToATrainingChildProcessLeavesALoadableCheckpoint()
    {
        using var dir = new TempDir();
        string cli = Path.Combine(AppContext.BaseDirectory, "EquiSharp.Cli.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { cli, "demo", "--out", dir.Path, "--epochs", "1000" }) psi.ArgumentList.Add(a);
        using var child = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        var sawStep = new ManualResetEventSlim();
        child.OutputDataReceived += (_, e) => { if (e.Data is null) return; lock (output) output.AppendLine(e.Data); if (e.Data.Contains("step ")) sawStep.Set(); };
        child.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        child.BeginOutputReadLine(); child.BeginErrorReadLine();
        if (!sawStep.Wait(TimeSpan.FromSeconds(60))) { child.Kill(entireProcessTree: true); Assert.Fail("the child never reported a training step:\n" + output); }
        Thread.Sleep(1500);
        Process.Start("kill", new[] { "-INT", child.Id.ToString() })!.WaitForExit();
        // after the checkpoint the demo still scores the test set and draws its heatmap: minutes on a loaded machine
        bool exited = child.WaitForExit(180_000);
        if (!exited) child.Kill(entireProcessTree: true); // never leave a 1000-epoch run behind
        string text; lock (output) text = output.ToString();
        Assert.True(exited, "the child did not exit within 180 s of SIGINT:\n" + text);
        child.WaitForExit(); // the timed overload returns before the asynchronous output handlers have drained
        lock (output) text = output.ToString();
        Assert.True(child.ExitCode == 0, $"exit code {child.ExitCode}:\n{text}");
        Assert.True(text.Contains("interrupted: checkpoint saved"), "no 'interrupted: checkpoint saved' line in the child's output:\n" + text);

        string scnnDir = Path.Combine(dir.Path, "scnn");
        manual_seed(1);
        var model = new RnaPairModel(RnaModelConfig.Small, symmetric: true);
        var state = Checkpoint.Load(scnnDir, model);
        Assert.NotNull(state);
        Assert.True(state!.Step > 0);
    }

    private static long ResidentBytes() => EquiSharp.Runtime.PhaseLog.StatusKb("VmRSS:") * 1024;

    private sealed class ConstantScoreTask(RnaTrainingTask inner) : ITrainingTask<EquiSharp.Applications.Rna.RnaWindow[]>
    {
        public nn.Module Model => inner.Model;
        public IReadOnlyList<EquiSharp.Applications.Rna.RnaWindow[]> EpochBatches(int epoch, Random rng) => inner.EpochBatches(epoch, rng).Take(1).ToList();
        public Tensor Loss(EquiSharp.Applications.Rna.RnaWindow[] batch) => inner.Loss(batch);
        public EvalResult Evaluate() => new(0.5, new Dictionary<string, double> { ["acc"] = 0.5 });
    }
}

/// <summary>Trainer tests measure the process's memory and spawn children: they run alone, after the parallel tests.</summary>
[CollectionDefinition("training", DisableParallelization = true)]
public sealed class TrainingCollection { }
