namespace EquiSharp.Applications.Recommendation.Data;

/// <summary>The held-out periods of a chronological split.</summary>
public enum EvaluationPeriod { Validation, Test }

/// <summary>Fractions of every user's sequence: the first <see cref="Train"/>, the next <see cref="Validation"/>, the rest test.</summary>
public sealed record SplitFractions(double Train = 0.7, double Validation = 0.1)
{
    public double Test => 1 - Train - Validation;

    /// <summary>Boundaries (end of train, end of validation) for a sequence of n items: ⌊n·f_train⌋ and ⌊n·(f_train + f_valid)⌋.</summary>
    public (int TrainEnd, int ValidationEnd) Boundaries(int n)
    {
        // the small epsilon keeps exact products (20 · 0.7 = 14) from flooring to one less in binary floating point
        int trainEnd = (int)Math.Floor(n * Train + 1e-9);
        int validationEnd = (int)Math.Floor(n * (Train + Validation) + 1e-9);
        return (Math.Min(trainEnd, n), Math.Min(validationEnd, n));
    }
}

/// <summary>
/// Per-user chronological split as in Caser and CosRec: each user's first 70% of interactions train, the next 10%
/// validate, the last 20% test (configurable). Users whose training part is empty are skipped (no input sequence, no
/// training instance) and counted.
/// </summary>
public sealed class ChronologicalSplit
{
    public InteractionLog Log { get; }
    public SplitFractions Fractions { get; }
    /// <summary>Per dense user (empty for skipped users).</summary>
    public IReadOnlyList<int[]> Train { get; }
    public IReadOnlyList<int[]> Validation { get; }
    public IReadOnlyList<int[]> Test { get; }
    /// <summary>Users skipped because their training part is empty.</summary>
    public int SkippedUsers { get; }

    private ChronologicalSplit(InteractionLog log, SplitFractions fractions, int[][] train, int[][] validation, int[][] test, int skipped)
    {
        Log = log; Fractions = fractions; Train = train; Validation = validation; Test = test; SkippedUsers = skipped;
    }

    public static ChronologicalSplit Create(InteractionLog log, SplitFractions? fractions = null)
    {
        fractions ??= new SplitFractions();
        if (fractions.Train <= 0 || fractions.Validation < 0 || fractions.Test < -1e-12)
            throw new ArgumentException($"Split fractions must satisfy train > 0, validation ≥ 0 and train + validation ≤ 1, got {fractions.Train} / {fractions.Validation}.");
        int users = log.UserCount, skipped = 0;
        var train = new int[users][]; var validation = new int[users][]; var test = new int[users][];
        for (int u = 0; u < users; u++)
        {
            var s = log.Sequences[u];
            var (trainEnd, validationEnd) = fractions.Boundaries(s.Length);
            if (trainEnd == 0) { skipped++; train[u] = validation[u] = test[u] = Array.Empty<int>(); continue; }
            train[u] = s[..trainEnd];
            validation[u] = s[trainEnd..validationEnd];
            test[u] = s[validationEnd..];
        }
        return new ChronologicalSplit(log, fractions, train, validation, test, skipped);
    }

    /// <summary>The items held out in a period for user <paramref name="user"/>.</summary>
    public int[] Targets(int user, EvaluationPeriod period) => period == EvaluationPeriod.Validation ? Validation[user] : Test[user];

    /// <summary>Items known before the period (train, plus validation for the test period): excluded from its ranking.</summary>
    public HashSet<int> KnownBefore(int user, EvaluationPeriod period)
    {
        var known = new HashSet<int>(Train[user]);
        if (period == EvaluationPeriod.Test) known.UnionWith(Validation[user]);
        return known;
    }

    /// <summary>
    /// The model's input for a period: the user's last <paramref name="markovOrder"/> items before it, left-padded with
    /// <see cref="TrainingInstances.Padding"/> when the user has fewer.
    /// </summary>
    public int[] InputBefore(int user, EvaluationPeriod period, int markovOrder)
    {
        var history = period == EvaluationPeriod.Validation ? Train[user] : Train[user].Concat(Validation[user]).ToArray();
        var input = new int[markovOrder];
        int take = Math.Min(markovOrder, history.Length);
        Array.Fill(input, TrainingInstances.Padding, 0, markovOrder - take);
        Array.Copy(history, history.Length - take, input, markovOrder - take, take);
        return input;
    }
}
