using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Tests.Applications.Rna;

public sealed class DotBracketTests
{
    /// <summary>k pairs that all cross each other: (m, k + m) for m &lt; k, so every level holds one pair.</summary>
    internal static int[] MutuallyCrossing(int k)
    {
        var partners = new int[2 * k];
        for (int m = 0; m < k; m++) { partners[m] = k + m; partners[k + m] = m; }
        return partners;
    }

    [Fact]
    public void ParsesAllBracketKindsAndLetters()
    {
        int[] p = DotBracket.Parse("([{<A.)]}>a");
        Assert.Equal([6, 7, 8, 9, 10, -1, 0, 1, 2, 3, 4], p);
    }

    [Fact]
    public void NestedStructureUsesRoundBracketsOnly()
    {
        int[] p = DotBracket.Parse("((..((...))..))");
        Assert.Equal("((..((...))..))", DotBracket.Format(p));
    }

    [Fact]
    public void SimplePseudoknotGoesToSquareBrackets()
    {
        int[] p = DotBracket.Parse("((..[[..))..]]");
        Assert.Equal("((..[[..))..]]", DotBracket.Format(p));
        Assert.Equal(new[] { 0, 0, -1, -1, 1, 1 }, DotBracket.AssignLevels(p)[..6]);
    }

    /// <summary>Level 1 keeps what '(' and ')' write; level k keeps the first k bracket kinds.</summary>
    [Fact]
    public void PairsBelowALevelKeepTheLowerBracketKinds()
    {
        int[] p = DotBracket.Parse("((..[[..{{))..]]..}}");
        Assert.Equal("((........))........", DotBracket.Format(DotBracket.PairsBelowLevel(p, 1)));
        Assert.Equal("((..[[....))..]]....", DotBracket.Format(DotBracket.PairsBelowLevel(p, 2)));
        Assert.Equal(p, DotBracket.PairsBelowLevel(p, 3));
    }

    [Fact]
    public void SevenMutuallyCrossingPairsUseSevenLevels()
    {
        int[] p = MutuallyCrossing(7);
        string s = DotBracket.Format(p);
        Assert.Equal("([{<ABC)]}>abc", s);
        Assert.Equal(p, DotBracket.Parse(s));
    }

    [Fact]
    public void LevelsNeverContainCrossingPairs()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 50; trial++)
        {
            int[] p = RoundTripTests.RandomPartners(rng, 80, 25);
            int[] level = DotBracket.AssignLevels(p);
            var pairs = Enumerable.Range(0, p.Length).Where(i => p[i] > i).Select(i => (I: i, J: p[i])).ToList();
            foreach (var a in pairs)
                foreach (var b in pairs)
                    if (a.I < b.I && b.I < a.J && a.J < b.J)
                        Assert.NotEqual(level[a.I], level[b.I]);
            Assert.Equal(p, DotBracket.Parse(DotBracket.Format(p)));
        }
    }

    [Fact]
    public void MoreThanThirtyLevelsCannotBeWritten() =>
        Assert.Throws<InvalidOperationException>(() => DotBracket.Format(MutuallyCrossing(DotBracket.MaxLevels + 1)));

    [Theory]
    [InlineData("((..)", 1, "never closed")]
    [InlineData("(..))", 5, "closes nothing")]
    [InlineData("(..]", 4, "closes nothing")]
    [InlineData("..A..", 3, "never closed")]
    [InlineData("(.*.)", 3, "unexpected")]
    public void UnbalancedInputNamesThePosition(string structure, int position, string problem)
    {
        var e = Assert.Throws<RnaFormatException>(() => DotBracket.Parse(structure));
        Assert.Equal(position, e.Position);
        Assert.Contains(problem, e.Message);
        Assert.Contains($"position {position}", e.Message);
    }
}
