using System.Text.RegularExpressions;
using EquiSharp.Training;

namespace EquiSharp.Applications.Protein.Training;

/// <summary>
/// The cross-validation split of one run. Folds are fixed by the data, never by the seed: proteins sorted by Pfam id
/// (then name), fold of the protein at index i = i mod K; the held-out fold is <see cref="Test"/>. The dev subset
/// used for best-weights selection is drawn by the seed from the training folds only (protein-disjoint from both
/// <see cref="Train"/> and <see cref="Test"/>), and the contact potential is estimated from <see cref="Train"/> only,
/// so neither dev nor test labels reach a feature.
/// </summary>
public sealed record ContactSplit(int Folds, int Fold, int Seed, string[] Train, string[] Dev, string[] Test)
{
    /// <summary>Default number of folds (the issue's 5-fold cross-validation of 30 proteins).</summary>
    public const int DefaultFolds = 5;

    /// <summary>Default size of the dev subset.</summary>
    public const int DefaultDevCount = 3;

    /// <summary>Splits protein names into training, dev and held-out proteins.</summary>
    public static ContactSplit Create(IEnumerable<string> names, int folds, int fold, int seed, int devCount = DefaultDevCount)
    {
        var ordered = Order(names);
        if (ordered.Distinct(StringComparer.Ordinal).Count() != ordered.Count) throw new ArgumentException("Two proteins have the same name.");
        if (folds < 2) throw new ArgumentException($"--folds {folds}: expected at least 2.");
        if (fold < 0 || fold >= folds) throw new ArgumentException($"--fold {fold}: expected 0 to {folds - 1}.");
        if (ordered.Count < folds) throw new ArgumentException($"{ordered.Count} proteins cannot fill {folds} folds.");
        var test = ordered.Where((_, i) => i % folds == fold).ToArray();
        var rest = ordered.Where((_, i) => i % folds != fold).ToArray();
        if (rest.Length < 2) throw new ArgumentException($"{rest.Length} training protein(s): need at least 2 (one for dev).");
        int n = Math.Clamp(devCount, 1, rest.Length - 1);
        var order = Enumerable.Range(0, rest.Length).ToArray();
        new Random(Seeds.Derive(seed, Seeds.DevSplitStream, fold)).Shuffle(order);
        var devIndex = order.Take(n).ToHashSet();
        return new ContactSplit(folds, fold, seed,
            rest.Where((_, i) => !devIndex.Contains(i)).ToArray(), rest.Where((_, i) => devIndex.Contains(i)).ToArray(), test);
    }

    /// <summary>Names in fold order: by Pfam id (PFnnnnn in the name; the name itself when there is none), then by name.</summary>
    public static List<string> Order(IEnumerable<string> names) =>
        names.OrderBy(PfamOf, StringComparer.Ordinal).ThenBy(n => n, StringComparer.Ordinal).ToList();

    /// <summary>The Pfam id in a protein name.</summary>
    public static string PfamOf(string name)
    {
        var m = Regex.Match(name, @"PF\d{5}");
        return m.Success ? m.Value : name;
    }

    /// <summary>The held-out proteins of fold <paramref name="fold"/> of K (for scoring a baseline on the same folds as the models).</summary>
    public static string[] HeldOut(IEnumerable<string> names, int folds, int fold) =>
        Create(names, folds, fold, seed: 1).Test;
}
