using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.IO;

namespace EquiSharp.Tests.Applications.Recommendation;

public class InteractionDataTests
{
    [Fact]
    public void ReadsTheThreeFormatsPlainAndGzip()
    {
        using var dir = new TempDir();
        var ml1m = InteractionReader.Read(dir.Write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n\n2::1193::4::978298413\n"), InteractionFormat.MovieLens1M);
        Assert.Equal(3, ml1m.Interactions.Count);
        Assert.Equal(new RawInteraction("2", "1193", 978298413, 4), ml1m.Interactions[2]);

        var ml100k = InteractionReader.Read(dir.WriteGzip("u.data.gz", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n"), InteractionFormat.MovieLens100K);
        Assert.Equal(new RawInteraction("186", "302", 891717742, 2), ml100k.Interactions[1]);

        var caser = InteractionReader.Parse("u1 i9 1\nu1 i3 1\nu2 i9 1\n", InteractionFormat.Caser);
        Assert.Equal(new[] { "i9", "i3", "i9" }, caser.Interactions.Select(x => x.Item));
        Assert.True(caser.Interactions[0].Timestamp < caser.Interactions[1].Timestamp); // line order is the clock
    }

    [Theory]
    [InlineData(InteractionFormat.MovieLens1M, "1::2::3::4\n1::2::3\n", 2, "expected 4 fields")]
    [InlineData(InteractionFormat.MovieLens1M, "1::2::3::4\n\n1::2::3::yesterday\n", 3, "timestamp 'yesterday' is not an integer")]
    [InlineData(InteractionFormat.MovieLens100K, "1\t2\t3\t4\n1\t2\tfive\t4\n", 2, "rating 'five' is not a number")]
    [InlineData(InteractionFormat.Caser, "a b 1\na b 1 7\n", 2, "expected 3 fields")]
    public void MalformedLinesNameFileAndLine(InteractionFormat format, string text, int line, string problem)
    {
        var e = Assert.Throws<InputFormatException>(() => InteractionReader.Parse(text, format, "bad.txt"));
        Assert.Equal(line, e.LineNumber);
        Assert.Contains(problem, e.Problem);
        Assert.StartsWith($"bad.txt, line {line}: ", e.Message);
    }

    [Fact]
    public void UnknownFormatNameIsAUserError() =>
        Assert.Throws<ArgumentException>(() => InteractionReader.ParseFormat("netflix"));

    [Fact]
    public void LogOrdersByTimeStablyAndReindexesDensely()
    {
        // user 7: items b (t=5), a (t=1), c (t=5), d (t=3) → a, d, b, c (b before c: tie keeps file order)
        var file = InteractionReader.Parse("7\tb\t1\t5\n9\tz\t1\t2\n7\ta\t1\t1\n7\tc\t1\t5\n7\td\t1\t3\n", InteractionFormat.MovieLens100K);
        var log = InteractionLog.Build(file);
        Assert.Equal(new[] { "7", "9" }, log.UserIds);
        Assert.Equal(new[] { "b", "z", "a", "c", "d" }, log.ItemIds);                 // first appearance
        Assert.Equal(new[] { "a", "d", "b", "c" }, log.Sequences[0].Select(i => log.ItemIds[i]));
        Assert.Equal(5, log.InteractionCount);
        Assert.Equal(1, log.UserIndex("9"));
        Assert.Null(log.UserIndex("8"));
    }

    [Fact]
    public void MinimumCountFiltersRepeatUntilBothHold()
    {
        // items ≥ 2 removes x; then user B has 1 interaction (< 2) and goes, which leaves item y with 1 (< 2): one pass would keep it
        var text = "A p 1\nA q 1\nA y 1\nB x 1\nB y 1\nC p 1\nC q 1\n";
        var log = InteractionLog.Build(InteractionReader.Parse(text, InteractionFormat.Caser), new InteractionFilter(2, 2));
        Assert.Equal(new[] { "A", "C" }, log.UserIds);
        Assert.Equal(new[] { "p", "q" }, log.ItemIds);
        Assert.Equal(1, log.UsersRemoved);
        Assert.Equal(2, log.ItemsRemoved);
        Assert.All(log.Sequences, s => Assert.True(s.Length >= 2));
    }

    private static InteractionLog Sequential(params int[] lengths)
    {
        // user u has items 0..n−1 in order; item ids are shared across users
        var lines = lengths.SelectMany((n, u) => Enumerable.Range(0, n).Select(i => $"u{u} {i} 1"));
        return InteractionLog.Build(InteractionReader.Parse(string.Join("\n", lines), InteractionFormat.Caser));
    }

    [Fact]
    public void ChronologicalSplitIs70_10_20PerUser()
    {
        var split = ChronologicalSplit.Create(Sequential(10, 20, 1, 3));
        Assert.Equal(7, split.Train[0].Length); Assert.Single(split.Validation[0]); Assert.Equal(2, split.Test[0].Length);
        Assert.Equal(14, split.Train[1].Length); Assert.Equal(2, split.Validation[1].Length); Assert.Equal(4, split.Test[1].Length);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, 6 }, split.Train[0].Select(i => int.Parse(split.Log.ItemIds[i])));
        Assert.Equal(new[] { 8, 9 }, split.Test[0].Select(i => int.Parse(split.Log.ItemIds[i])));
        Assert.Empty(split.Train[2]);                     // one interaction: no training part
        Assert.Equal(1, split.SkippedUsers);
        Assert.Equal((2, 2), new SplitFractions().Boundaries(3));

        var custom = ChronologicalSplit.Create(Sequential(10), new SplitFractions(0.5, 0.3));
        Assert.Equal((5, 3, 2), (custom.Train[0].Length, custom.Validation[0].Length, custom.Test[0].Length));
    }

    [Fact]
    public void EvaluationInputIsTheLastItemsBeforeThePeriodPadded()
    {
        var split = ChronologicalSplit.Create(Sequential(10, 4));
        string Ids(int[] s) => string.Join(",", s.Select(i => i < 0 ? "_" : split.Log.ItemIds[i]));
        Assert.Equal("2,3,4,5,6", Ids(split.InputBefore(0, EvaluationPeriod.Validation, 5)));
        Assert.Equal("3,4,5,6,7", Ids(split.InputBefore(0, EvaluationPeriod.Test, 5)));
        Assert.Equal("_,_,_,0,1", Ids(split.InputBefore(1, EvaluationPeriod.Validation, 5)));
        Assert.Equal(8, split.KnownBefore(0, EvaluationPeriod.Test).Count);
        Assert.Equal(7, split.KnownBefore(0, EvaluationPeriod.Validation).Count);
    }

    [Fact]
    public void InstancesAreCosRecWindowsOfLInputsAndTTargets()
    {
        var split = ChronologicalSplit.Create(Sequential(9, 6, 3), new SplitFractions(1.0, 0.0));
        var inst = TrainingInstances.Create(split, markovOrder: 5, targets: 3);
        string Item(int i) => i < 0 ? "_" : split.Log.ItemIds[i];
        var rows = Enumerable.Range(0, inst.Count)
            .Select(k => $"{inst.Users[k]}:{string.Join(",", inst.Inputs.Skip(k * 5).Take(5).Select(Item))}|{string.Join(",", inst.Targets.Skip(k * 3).Take(3).Select(Item))}")
            .ToArray();
        Assert.Equal(new[]
        {
            "0:0,1,2,3,4|5,6,7", "0:1,2,3,4,5|6,7,8",   // 9 items: 9 − 8 + 1 windows
            "1:_,_,0,1,2|3,4,5",                         // 6 items: one left-padded window
        }, rows);
        Assert.Equal(1, inst.UsersWithoutInstances);    // 3 items ≤ T
    }

    [Fact]
    public void NegativesAreOutsideTheHistoryUniformAndSeeded()
    {
        var split = ChronologicalSplit.Create(Sequential(12, 3), new SplitFractions(0.5, 0.0)); // user 0 knows items 0..5 of 12
        var sampler = new NegativeSampler(split);
        var a = new int[4000];
        sampler.Sample(0, new Random(3), a);
        Assert.All(a, i => Assert.False(sampler.InHistory(0, i)));
        Assert.Equal(6, a.Distinct().Count());                      // every candidate item appears
        Assert.All(a.GroupBy(i => i), g => Assert.InRange(g.Count(), 4000 / 6 - 120, 4000 / 6 + 120));
        var b = new int[4000];
        sampler.Sample(0, new Random(3), b);
        Assert.Equal(a, b);
    }
}
