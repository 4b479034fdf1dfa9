using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Tests.Applications.Rna;

public sealed class RnaStructureTests
{
    [Fact]
    public void PairsLengthAndCountReflectPartners()
    {
        var s = new RnaStructure("x", "GGGAAACCC", [8, 7, -1, -1, -1, -1, -1, 1, 0]);
        Assert.Equal(9, s.Length);
        Assert.Equal(2, s.PairCount);
        Assert.Equal([(0, 8), (1, 7)], s.Pairs().ToArray());
    }

    [Theory]
    [InlineData('A', 0), InlineData('c', 1), InlineData('G', 2), InlineData('u', 3), InlineData('T', 3), InlineData('N', 4), InlineData('R', 4), InlineData('-', 4)]
    public void BaseIndexMapsLettersCaseInsensitively(char c, int expected) => Assert.Equal(expected, RnaStructure.BaseIndex(c));

    [Fact]
    public void NormalizeSequenceMapsLowerCaseTAndCountsUnknown()
    {
        string seq = RnaStructure.NormalizeSequence("acgtTNRyX", out int unknown);
        Assert.Equal("ACGUUNNNN", seq);
        Assert.Equal(4, unknown);
    }

    [Theory]
    [InlineData(new[] { 2, -1, 1 })]        // asymmetric: 0 -> 2 but 2 -> 1
    [InlineData(new[] { 5, -1, -1 })]       // out of range
    [InlineData(new[] { 0, -1, -1 })]       // self-pair
    [InlineData(new[] { 2, -1, -1 })]       // partner unpaired
    public void ConstructorRejectsInconsistentPartners(int[] partners) =>
        Assert.Throws<ArgumentException>(() => new RnaStructure("bad", "ACG", partners));

    [Fact]
    public void ConstructorRejectsLengthMismatchAndRawLetters()
    {
        Assert.Throws<ArgumentException>(() => new RnaStructure("x", "ACG", [-1, -1]));
        Assert.Throws<ArgumentException>(() => new RnaStructure("x", "acg", [-1, -1, -1]));
    }

    [Fact]
    public void EqualityComparesPartnersByValue()
    {
        var a = new RnaStructure("x", "GAC", [2, -1, 0]);
        var b = new RnaStructure("x", "GAC", [2, -1, 0]);
        Assert.Equal(a, b);
        Assert.NotEqual(a, b with { Partners = [-1, -1, -1] });
    }

    [Fact]
    public void PartnersFromPairsRejectsReuse()
    {
        Assert.Equal([3, -1, -1, 0], RnaStructure.PartnersFromPairs(4, [(3, 0)]));
        Assert.Throws<ArgumentException>(() => RnaStructure.PartnersFromPairs(4, [(0, 3), (1, 3)]));
    }
}
