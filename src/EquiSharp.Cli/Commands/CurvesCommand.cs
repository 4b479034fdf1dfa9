using System.CommandLine;
using System.Globalization;
using EquiSharp.Training;
using Spectre.Console;

namespace EquiSharp.Cli.Commands;

/// <summary>
/// <c>equisharp curves RUN…</c>: compares training runs of any application (every run directory holds the shared
/// trainer's checkpoint): a table of each run's best epoch and score, and one PNG with a line per run.
/// </summary>
public sealed class CurvesCommand : ICliCommand
{
    public Command Build()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run directories (each holding checkpoint/state.json).", Arity = ArgumentArity.OneOrMore };
        var metric = new Option<string>("--metric") { Description = "Dev metric to plot (e.g. acc, ppv, sen, f1, mcc), or train-loss for the mean training loss.", DefaultValueFactory = _ => "acc" };
        var labels = new Option<string[]>("--label") { Description = "Legend label per run, in order (default: the directory names).", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "PNG to write.", DefaultValueFactory = _ => "curves.png" };
        var title = new Option<string?>("--title") { Description = "Figure title." };
        var command = new Command("curves", "Compare training runs: best epoch and score per run, and one PNG with a curve per run.")
            { runs, metric, labels, output, title };
        command.SetAction(parse =>
        {
            var dirs = parse.GetValue(runs)!;
            var names = parse.GetValue(labels) ?? Array.Empty<string>();
            if (names.Length > 0 && names.Length != dirs.Length)
                throw new ArgumentException($"--label: {names.Length} labels for {dirs.Length} runs (give one per run, or none).");
            string m = parse.GetValue(metric)!;
            var loaded = dirs.Select((d, i) => (Label: names.Length > 0 ? names[i] : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(d))),
                State: Checkpoint.ReadState(d))).ToList();
            foreach (var (label, state) in loaded)
                if (m != Plots.TrainLossMetric && state.History.Count > 0 && !state.History[0].Dev.ContainsKey(m))
                    throw new ArgumentException($"--metric {m}: run '{label}' has no dev metric '{m}' (it has: {string.Join(", ", state.History[0].Dev.Keys)}, {Plots.TrainLossMetric}).");

            var table = new Table().AddColumns("run", "steps", "epochs", "best epoch", "best dev score", $"last {m}", "train s");
            foreach (var (label, state) in loaded)
            {
                var last = state.History.Count > 0 ? Plots.MetricOf(state.History[^1], m) : double.NaN;
                table.AddRow(Markup.Escape(label), state.Step.ToString(CultureInfo.InvariantCulture), state.History.Count.ToString(CultureInfo.InvariantCulture),
                    state.BestEpoch.ToString(CultureInfo.InvariantCulture), Inv($"{state.BestScore:0.0000}"), Inv($"{last:0.0000}"), Inv($"{state.TrainSeconds:0}"));
            }
            AnsiConsole.Write(table);
            string png = Path.GetFullPath(parse.GetValue(output)!);
            Plots.CompareRuns(png, loaded.Select(r => (r.Label, (IReadOnlyList<EpochRecord>)r.State.History)).ToList(), m,
                parse.GetValue(title) ?? (m == Plots.TrainLossMetric ? "training loss per epoch" : $"dev {m} per epoch"));
            Console.WriteLine($"curves: {png}");
            return 0;
        });
        return command;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
