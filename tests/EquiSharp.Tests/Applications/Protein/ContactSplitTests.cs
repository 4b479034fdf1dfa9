using EquiSharp.Applications.Protein.Training;

namespace EquiSharp.Tests.Applications.Protein;

public class ContactSplitTests
{
    private static readonly string[] Names = Enumerable.Range(0, 30).Select(k => $"PF{(k * 37) % 997:00000}_X{k}_A").ToArray();

    [Fact]
    public void FoldsAreFixedByPfamOrderAndDevIsDrawnFromTheTrainingFoldsOnly()
    {
        var ordered = Names.OrderBy(n => n[..7], StringComparer.Ordinal).ToList();
        for (int fold = 0; fold < 5; fold++)
        {
            var s = ContactSplit.Create(Names.Reverse(), 5, fold, seed: 4);
            Assert.Equal(ordered.Where((_, i) => i % 5 == fold), s.Test);
            Assert.Equal(3, s.Dev.Length);
            Assert.Empty(s.Dev.Intersect(s.Test));
            Assert.Empty(s.Dev.Intersect(s.Train));
            Assert.Empty(s.Train.Intersect(s.Test));
            Assert.Equal(Names.Order(), s.Train.Concat(s.Dev).Concat(s.Test).Order());
            // deterministic: the same seed gives the same split, in any input order
            Assert.Equal(s, ContactSplit.Create(Names, 5, fold, seed: 4), SplitComparer.Instance);
        }
        // the seed moves the dev subset, never the held-out fold
        var dev = Enumerable.Range(1, 10).Select(seed => ContactSplit.Create(Names, 5, 2, seed)).ToList();
        Assert.All(dev, s => Assert.Equal(dev[0].Test, s.Test));
        Assert.True(dev.Select(s => string.Join(",", s.Dev)).Distinct().Count() > 1);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(5, 5)]
    [InlineData(5, -1)]
    public void BadFoldsAreUserErrors(int folds, int fold) =>
        Assert.Throws<ArgumentException>(() => ContactSplit.Create(Names, folds, fold, 1));

    private sealed class SplitComparer : IEqualityComparer<ContactSplit>
    {
        public static readonly SplitComparer Instance = new();
        public bool Equals(ContactSplit? a, ContactSplit? b) => a is not null && b is not null &&
            (a.Folds, a.Fold, a.Seed) == (b.Folds, b.Fold, b.Seed) && a.Train.SequenceEqual(b.Train) && a.Dev.SequenceEqual(b.Dev) && a.Test.SequenceEqual(b.Test);
        public int GetHashCode(ContactSplit s) => s.Fold;
    }
}
