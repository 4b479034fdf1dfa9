using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace EquiSharp.Training;

/// <summary>Where long work reports its progress: a live bar on a terminal, plain lines otherwise.</summary>
public interface ITrainingProgress
{
    /// <summary>Sets the total number of steps (for rate and ETA) and the step to start from.</summary>
    void Start(string title, long totalSteps, long startStep = 0);
    /// <summary>Reports a finished step with its loss (NaN for work that has no loss, e.g. a benchmark round).</summary>
    void Step(long step, double loss);
    /// <summary>Prints a message line (epoch summaries, warnings) without breaking the bar.</summary>
    void Message(string text);
}

/// <summary>Chooses the right progress display for the current console.</summary>
public static class ProgressDisplay
{
    /// <summary>True when stdout is an interactive terminal (not redirected, not CI).</summary>
    public static bool IsInteractive =>
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null or "" or "false"
        && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="body"/> with a live Spectre.Console bar on a terminal, or plain lines when output is redirected.</summary>
    public static T Run<T>(Func<ITrainingProgress, T> body, bool quiet = false)
    {
        if (quiet) return body(new SilentProgress());
        if (!IsInteractive) return body(new PlainLineProgress(Console.Out));
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx => { result = body(new SpectreProgress(ctx)); });
        return result;
    }

    private sealed class SilentProgress : ITrainingProgress
    {
        public void Start(string title, long totalSteps, long startStep = 0) { }
        public void Step(long step, double loss) { }
        public void Message(string text) { }
    }
}

/// <summary>Rate and ETA bookkeeping shared by both displays.</summary>
internal sealed class ProgressClock
{
    private readonly Stopwatch watch = Stopwatch.StartNew();
    private long startStep;
    public long Total { get; private set; }
    public void Reset(long total, long start) { Total = total; startStep = start; watch.Restart(); }
    public double Rate(long step) => (step - startStep) / Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
    public TimeSpan Eta(long step) { double r = Rate(step); return r <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((Total - step) / r); }
    public double Seconds => watch.Elapsed.TotalSeconds;

    public string Describe(long step, double loss) => string.Create(CultureInfo.InvariantCulture,
        $"step {step}/{Total}{LossText(loss)} rate={Rate(step):0.00} steps/s eta={Eta(step):hh\\:mm\\:ss}");

    /// <summary>" loss=…", or nothing for work without a loss (NaN).</summary>
    public static string LossText(double loss) => double.IsNaN(loss) ? "" : string.Create(CultureInfo.InvariantCulture, $" loss={loss:0.0000}");
}

/// <summary>Plain, line-per-update progress for logs and CI: at most one line every few seconds, plus the last step.</summary>
public sealed class PlainLineProgress : ITrainingProgress
{
    private readonly TextWriter output;
    private readonly ProgressClock clock = new();
    private readonly TimeSpan interval;
    private string title = "";
    private double lastPrint = double.NegativeInfinity;

    public PlainLineProgress(TextWriter output, TimeSpan? interval = null)
    {
        this.output = output;
        this.interval = interval ?? TimeSpan.FromSeconds(5);
    }

    public void Start(string title, long totalSteps, long startStep = 0) { this.title = title; clock.Reset(totalSteps, startStep); lastPrint = double.NegativeInfinity; }

    public void Step(long step, double loss)
    {
        if (step < clock.Total && clock.Seconds - lastPrint < interval.TotalSeconds) return;
        lastPrint = clock.Seconds;
        output.WriteLine($"[{title}] {clock.Describe(step, loss)}");
        output.Flush();
    }

    public void Message(string text) { output.WriteLine(text); output.Flush(); }
}

internal sealed class SpectreProgress : ITrainingProgress
{
    private readonly ProgressContext context;
    private readonly ProgressClock clock = new();
    private ProgressTask? task;
    private string title = "";

    public SpectreProgress(ProgressContext context) { this.context = context; }

    public void Start(string title, long totalSteps, long startStep = 0)
    {
        this.title = title;
        clock.Reset(totalSteps, startStep);
        task = context.AddTask(Markup.Escape(title), maxValue: Math.Max(totalSteps, 1));
        task.Value = startStep;
    }

    public void Step(long step, double loss)
    {
        if (task is null) return;
        task.Value = step;
        task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{title}{ProgressClock.LossText(loss)} {clock.Rate(step):0.00} steps/s"));
    }

    public void Message(string text) => AnsiConsole.MarkupLine(Markup.Escape(text));
}
