using EquiSharp.Applications.Rna.Evaluation;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Inference;
using EquiSharp.Metrics;

namespace EquiSharp.Tests.Applications.Rna;

public sealed class RnaScoreTableTests
{
    /// <summary>A prediction of <paramref name="length"/> nt: one true hairpin pair (0, length − 1), predicted or not.</summary>
    private static RnaPrediction Hairpin(int length, bool found)
    {
        var truth = Enumerable.Repeat(-1, length).ToArray();
        (truth[0], truth[^1]) = (length - 1, 0);
        var predicted = found ? (int[])truth.Clone() : Enumerable.Repeat(-1, length).ToArray();
        var record = new RnaStructure($"r{length}", new string('A', length), truth);
        return new RnaPrediction(record, predicted, PairMetrics.Compute(predicted, truth), 0);
    }

    private static RnaPrediction FromDotBracket(string truth, string predicted)
    {
        var t = DotBracket.Parse(truth);
        var p = DotBracket.Parse(predicted);
        return new RnaPrediction(new RnaStructure("pk", new string('G', t.Length), t), p, PairMetrics.Compute(p, t), 0);
    }

    [Fact]
    public void BinsSplitAtTheirLowerBoundsAndEmptyBinsHaveNoScores()
    {
        var preds = new[] { 50, 99, 100, 199, 200, 499 }.Select((l, k) => Hairpin(l, found: k % 2 == 0)).ToList();
        var rows = RnaScoreTable.Rows(preds);
        Assert.Equal(2 * (1 + RnaScoreTable.Bins.Count), rows.Count);
        Assert.Equal(new[] { 6, 6, 2, 2, 2, 2, 2, 2, 0, 0 }, rows.Select(r => r.Count));
        Assert.Equal(new[] { "all", "nested" }, rows.Take(2).Select(r => r.Pairs));
        // each bin holds one found and one missed hairpin: mean F1 ½, the baseline's 0
        foreach (var r in rows.Where(r => r.Count > 0))
        {
            Assert.Equal(0.5, r.Model!.F1, 12);
            Assert.Equal(0.0, r.Unpaired!.F1);
            Assert.Equal(0.0, r.Unpaired.Sensitivity);
        }
        Assert.Null(rows[^1].Model);
        Assert.Null(rows[^1].Unpaired);
    }

    /// <summary>
    /// Nested rows score level 0 of each structure: a prediction of only the pseudoknotted stem of an H-type
    /// pseudoknot gets F1 ⅔ on all pairs, but 0 on nested pairs, where its stem (level 0 in the prediction) meets the true structure's other stem.
    /// </summary>
    [Fact]
    public void NestedRowsDropPseudoknotLevelsFromBothStructures()
    {
        var exact = FromDotBracket("((..[[..))..]]", "((..[[..))..]]");
        var knotOnly = FromDotBracket("((..[[..))..]]", "....((......))");
        var rows = RnaScoreTable.Rows(new[] { exact, knotOnly });
        var all = rows.Single(r => r.Bin == "all" && r.Pairs == "all");
        var nested = rows.Single(r => r.Bin == "all" && r.Pairs == "nested");
        Assert.Equal((1.0 + 2.0 / 3.0) / 2, all.Model!.F1, 12);
        Assert.Equal((1.0 + 0.0) / 2, nested.Model!.F1, 12);
        Assert.Equal(0.0, nested.Unpaired!.F1);
    }

    [Fact]
    public void FormatPrintsTheRuleAHeaderAndOneParsableRowPerBin()
    {
        var lines = RnaScoreTable.Format(RnaScoreTable.Rows(new[] { Hairpin(30, true), Hairpin(150, false) })).TrimEnd('\n').Split('\n');
        Assert.StartsWith("# ", lines[0]);
        Assert.Contains(RnaScoreTable.NestedRule, lines[0]);
        var header = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(new[] { "length", "pairs", "n", "ppv", "sen", "f1", "mcc", "unpaired_ppv", "unpaired_sen", "unpaired_f1", "unpaired_mcc" }, header);
        var rows = lines.Skip(2).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.All(rows, r => Assert.Equal(header.Length, r.Length));
        Assert.Equal(new[] { "<100", "all", "1", "1.0000", "1.0000", "1.0000", "1.0000", "0.0000", "0.0000", "0.0000", "0.0000" }, rows[2]);
        Assert.Equal(new[] { "200-500", "all", "0", "-", "-", "-", "-", "-", "-", "-", "-" }, rows[6]);
    }
}
