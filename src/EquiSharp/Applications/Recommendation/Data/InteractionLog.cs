namespace EquiSharp.Applications.Recommendation.Data;

/// <summary>Minimum-count filters applied before re-indexing; 0 keeps everything.</summary>
/// <param name="MinUserInteractions">Keep users with at least this many interactions.</param>
/// <param name="MinItemInteractions">Keep items with at least this many interactions.</param>
public sealed record InteractionFilter(int MinUserInteractions = 0, int MinItemInteractions = 0)
{
    public static InteractionFilter None { get; } = new();
}

/// <summary>
/// Implicit interactions with dense ids: users 0..U−1 and items 0..I−1, numbered in order of first appearance in the
/// file among the interactions kept, each user's items ordered by timestamp (stable: ties keep file order).
/// </summary>
public sealed class InteractionLog
{
    /// <summary>Original user id of every dense user.</summary>
    public IReadOnlyList<string> UserIds { get; }
    /// <summary>Original item id of every dense item.</summary>
    public IReadOnlyList<string> ItemIds { get; }
    /// <summary>Every user's items in time order.</summary>
    public IReadOnlyList<int[]> Sequences { get; }
    public int UserCount => UserIds.Count;
    public int ItemCount => ItemIds.Count;
    public long InteractionCount { get; }
    /// <summary>Users of the file left with no interaction by the filters (skipped).</summary>
    public int UsersRemoved { get; }
    /// <summary>Items of the file left with no interaction by the filters.</summary>
    public int ItemsRemoved { get; }

    private InteractionLog(string[] users, string[] items, int[][] sequences, int usersRemoved, int itemsRemoved)
    {
        UserIds = users; ItemIds = items; Sequences = sequences;
        InteractionCount = sequences.Sum(s => (long)s.Length);
        UsersRemoved = usersRemoved; ItemsRemoved = itemsRemoved;
    }

    /// <summary>Dense index of an original user id, or null.</summary>
    public int? UserIndex(string originalId)
    {
        userLookup ??= UserIds.Select((id, k) => (id, k)).ToDictionary(p => p.id, p => p.k, StringComparer.Ordinal);
        return userLookup.TryGetValue(originalId, out int k) ? k : null;
    }
    private Dictionary<string, int>? userLookup;

    /// <summary>
    /// Filters, re-indexes and orders the interactions of a file. The filters are applied until both hold at once
    /// (removing items can push a user below the threshold and back): every kept user and item then has at least the
    /// minimum count.
    /// </summary>
    public static InteractionLog Build(InteractionFile file, InteractionFilter? filter = null)
    {
        filter ??= InteractionFilter.None;
        if (filter.MinUserInteractions < 0 || filter.MinItemInteractions < 0)
            throw new ArgumentException($"Minimum interaction counts must be non-negative, got users ≥ {filter.MinUserInteractions}, items ≥ {filter.MinItemInteractions}.");
        var all = file.Interactions;
        int distinctUsers = all.Select(x => x.User).Distinct(StringComparer.Ordinal).Count();
        int distinctItems = all.Select(x => x.Item).Distinct(StringComparer.Ordinal).Count();
        var kept = Enumerable.Range(0, all.Count).ToList();
        while (true)
        {
            var userCounts = kept.GroupBy(k => all[k].User, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var itemCounts = kept.GroupBy(k => all[k].Item, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var next = kept.Where(k => userCounts[all[k].User] >= filter.MinUserInteractions && itemCounts[all[k].Item] >= filter.MinItemInteractions).ToList();
            if (next.Count == kept.Count) break;
            kept = next;
        }

        var users = new Dictionary<string, int>(StringComparer.Ordinal);
        var items = new Dictionary<string, int>(StringComparer.Ordinal);
        var userIds = new List<string>();
        var itemIds = new List<string>();
        var perUser = new List<List<int>>(); // indices into `all`, file order
        foreach (int k in kept)
        {
            var x = all[k];
            if (!users.TryGetValue(x.User, out int u)) { u = userIds.Count; users[x.User] = u; userIds.Add(x.User); perUser.Add(new List<int>()); }
            if (!items.ContainsKey(x.Item)) { items[x.Item] = itemIds.Count; itemIds.Add(x.Item); }
            perUser[u].Add(k);
        }
        // OrderBy is a stable sort: equal timestamps keep their file order
        var sequences = perUser.Select(list => list.OrderBy(k => all[k].Timestamp).Select(k => items[all[k].Item]).ToArray()).ToArray();
        return new InteractionLog(userIds.ToArray(), itemIds.ToArray(), sequences, distinctUsers - userIds.Count, distinctItems - itemIds.Count);
    }
}
