using System.CommandLine;
using EquiSharp.Applications.Sets;

namespace EquiSharp.Cli.Commands;

/// <summary><c>equisharp sets demo</c>: equivariant set layers vs MLPs on a quadratic equivariant target, trained on N=5, evaluated on N=5 and N=10.</summary>
public sealed class SetsCommand : ICliCommand
{
    public Command Build()
    {
        var defaults = new SetsDemoOptions();
        var steps = new Option<int>("--steps") { Description = "Adam steps per model.", DefaultValueFactory = _ => defaults.Steps };
        var train = new Option<int>("--train-samples") { Description = "Training sets.", DefaultValueFactory = _ => defaults.TrainSamples };
        var test = new Option<int>("--test-samples") { Description = "Test sets (per set size).", DefaultValueFactory = _ => defaults.TestSamples };
        var hidden = new Option<int>("--hidden") { Description = "Hidden channels of the equivariant model.", DefaultValueFactory = _ => defaults.Hidden };
        var mlpHidden = new Option<int>("--mlp-hidden") { Description = "Hidden width of the similar-size MLP.", DefaultValueFactory = _ => defaults.MlpHidden };
        var wide = new Option<int>("--wide-mlp-hidden") { Description = "Hidden width of the wide MLP (0 skips it).", DefaultValueFactory = _ => defaults.WideMlpHidden };
        var seed = CommonOptions.Seed();
        var demo = new Command("demo", "Train the equivariant set model and MLP baselines on y_i = x_i*sum_j x_j - x_i^2; print relative errors on N=5 and N=10.")
        {
            steps, train, test, hidden, mlpHidden, wide, CommonOptions.Threads(defaultThreads: 1), seed,
        };
        demo.SetAction(parse =>
        {
            var options = defaults with
            {
                Steps = parse.GetValue(steps), TrainSamples = parse.GetValue(train), TestSamples = parse.GetValue(test),
                Hidden = parse.GetValue(hidden), MlpHidden = parse.GetValue(mlpHidden), WideMlpHidden = parse.GetValue(wide), Seed = parse.GetValue(seed),
            };
            foreach (var line in SetsDemo.Format(SetsDemo.Run(options), options)) Console.WriteLine(line);
            return 0;
        });
        var command = new Command("sets", "Permutation-equivariant networks on sets.") { demo };
        return command;
    }
}
