using TorchSharp.Modules;

namespace EquiSharp.Training;

/// <summary>
/// Changes the learning rate between epochs from the selection score. Its state lives in
/// <see cref="TrainingState.Schedule"/> (a name → number map written with every checkpoint), so a resumed run
/// continues the schedule exactly.
/// </summary>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate for the next epoch, given the current one, this epoch's selection score (higher is better) and the schedule's state (read and updated in place).</summary>
    double Next(double learningRate, double score, IDictionary<string, double> state);

    /// <summary>One line for logs and run records.</summary>
    string Describe();
}

/// <summary>
/// Reduce-on-plateau (as PyTorch's <c>ReduceLROnPlateau</c> in "max" mode with a relative threshold): when the score
/// has not improved on its best by more than <see cref="Threshold"/>·|best| for more than <see cref="Patience"/>
/// epochs, multiply the learning rate by <see cref="Factor"/> (not below <see cref="MinLearningRate"/>) and start
/// counting again.
/// </summary>
public sealed record ReduceOnPlateau(double Factor = 0.1, int Patience = 3, double Threshold = 1e-4, double MinLearningRate = 0) : ILearningRateSchedule
{
    public double Next(double learningRate, double score, IDictionary<string, double> state)
    {
        if (Factor is <= 0 or >= 1) throw new ArgumentException($"Reduce-on-plateau factor must be in (0, 1), got {Factor}.");
        double best = state.TryGetValue("best", out var b) ? b : double.NegativeInfinity;
        double bad = state.TryGetValue("bad_epochs", out var n) ? n : 0;
        if (double.IsNegativeInfinity(best) || score > best + Threshold * Math.Abs(best)) { best = score; bad = 0; }
        else bad++;
        if (bad > Patience)
        {
            learningRate = Math.Max(MinLearningRate, learningRate * Factor);
            bad = 0;
        }
        state["best"] = best;
        state["bad_epochs"] = bad;
        return learningRate;
    }

    public string Describe() => FormattableString.Invariant($"reduce on plateau (factor {Factor}, patience {Patience})");
}

/// <summary>The metric that selects the best epoch and drives early stopping and schedules.</summary>
/// <param name="Name">A key of the task's dev metrics ("acc", "f1", "map", …), or null for the task's own score.</param>
/// <param name="HigherIsBetter">False for losses and errors (the score is then the negated value).</param>
public sealed record SelectionMetric(string? Name, bool HigherIsBetter = true)
{
    /// <summary>The task's own score.</summary>
    public static SelectionMetric TaskScore { get; } = new((string?)null);

    /// <summary>Parses "--select NAME": names containing "loss" or "error" are minimised, others maximised.</summary>
    public static SelectionMetric Parse(string name) =>
        new(name.Trim().ToLowerInvariant(), !(name.Contains("loss", StringComparison.OrdinalIgnoreCase) || name.Contains("error", StringComparison.OrdinalIgnoreCase)));

    /// <summary>The selection score of an evaluation (higher is better).</summary>
    public double Score(EvalResult eval)
    {
        if (Name is null) return eval.Score;
        if (!eval.Metrics.TryGetValue(Name, out var value))
            throw new ArgumentException($"--select {Name}: the evaluation reports {string.Join(", ", eval.Metrics.Keys)}.");
        return HigherIsBetter ? value : -value;
    }
}

/// <summary>Reading and writing the learning rate of every parameter group of an optimizer.</summary>
public static class LearningRates
{
    public static double Get(OptimizerHelper optimizer) => optimizer.ParamGroups.First().LearningRate;

    public static void Set(OptimizerHelper optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
    }
}
