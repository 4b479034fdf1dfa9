namespace EquiSharp.Applications.Recommendation.Data;

/// <summary>
/// Training instances of Markov order L with T targets, as in CosRec (and Caser): every window of L + T consecutive
/// training items of a user gives the previous L items as input and the next T as targets. A user with fewer than
/// L + T (but more than T) training items gives one window, its input left-padded with <see cref="Padding"/>; a user
/// with T or fewer gives none and is counted.
/// </summary>
public sealed class TrainingInstances
{
    /// <summary>The "no item" marker of padded inputs (models embed it as a zero vector).</summary>
    public const int Padding = -1;

    public int MarkovOrder { get; }
    public int TargetCount { get; }
    /// <summary>User of every instance.</summary>
    public int[] Users { get; }
    /// <summary>Inputs, row-major (instances × L).</summary>
    public int[] Inputs { get; }
    /// <summary>Targets, row-major (instances × T).</summary>
    public int[] Targets { get; }
    public int Count => Users.Length;
    /// <summary>Users with a training part too short for one instance (T items or fewer).</summary>
    public int UsersWithoutInstances { get; }

    private TrainingInstances(int l, int t, int[] users, int[] inputs, int[] targets, int without)
    {
        MarkovOrder = l; TargetCount = t; Users = users; Inputs = inputs; Targets = targets; UsersWithoutInstances = without;
    }

    /// <param name="split">The split whose training parts are windowed.</param>
    /// <param name="markovOrder">L: previous items in the input (CosRec: 5).</param>
    /// <param name="targets">T: next items to predict (CosRec: 3).</param>
    public static TrainingInstances Create(ChronologicalSplit split, int markovOrder = 5, int targets = 3)
    {
        if (markovOrder < 1 || targets < 1) throw new ArgumentException($"Markov order L and target count T must be positive, got L = {markovOrder}, T = {targets}.");
        int window = markovOrder + targets, without = 0;
        var users = new List<int>(); var inputs = new List<int>(); var outs = new List<int>();
        for (int u = 0; u < split.Train.Count; u++)
        {
            var s = split.Train[u];
            if (s.Length == 0) continue; // skipped by the split, counted there
            if (s.Length <= targets) { without++; continue; }
            if (s.Length < window)
            {
                users.Add(u);
                inputs.AddRange(Enumerable.Repeat(Padding, window - s.Length));
                inputs.AddRange(s[..^targets]);
                outs.AddRange(s[^targets..]);
                continue;
            }
            for (int start = 0; start + window <= s.Length; start++)
            {
                users.Add(u);
                inputs.AddRange(s[start..(start + markovOrder)]);
                outs.AddRange(s[(start + markovOrder)..(start + window)]);
            }
        }
        return new TrainingInstances(markovOrder, targets, users.ToArray(), inputs.ToArray(), outs.ToArray(), without);
    }
}
