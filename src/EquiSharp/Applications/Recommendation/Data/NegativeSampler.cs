namespace EquiSharp.Applications.Recommendation.Data;

/// <summary>
/// Negative sampling as in CosRec: for a user, items drawn uniformly from all items the user has not interacted with
/// in training (its history), with replacement. Draws come from a caller's seeded <see cref="Random"/>, so an epoch's
/// negatives depend only on its seed.
/// </summary>
public sealed class NegativeSampler
{
    private readonly HashSet<int>[] history;
    private readonly int itemCount;

    public NegativeSampler(ChronologicalSplit split)
    {
        itemCount = split.Log.ItemCount;
        history = split.Train.Select(s => new HashSet<int>(s)).ToArray();
    }

    /// <summary>True when <paramref name="item"/> is in the training history of <paramref name="user"/>.</summary>
    public bool InHistory(int user, int item) => history[user].Contains(item);

    /// <summary>Writes <paramref name="destination"/>.Length negatives for <paramref name="user"/>.</summary>
    public void Sample(int user, Random rng, Span<int> destination)
    {
        var h = history[user];
        if (h.Count >= itemCount)
            throw new InvalidOperationException($"User {user} has interacted with every item in training: there is no negative to sample.");
        // rejection sampling is exactly uniform over the complement and cheap while histories are small next to the catalogue
        for (int k = 0; k < destination.Length; k++)
        {
            int item;
            do item = rng.Next(itemCount); while (h.Contains(item));
            destination[k] = item;
        }
    }
}
