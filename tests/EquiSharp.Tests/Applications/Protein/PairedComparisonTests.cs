using EquiSharp.Applications.Protein.Evaluation;

namespace EquiSharp.Tests.Applications.Protein;

public class PairedComparisonTests
{
    [Fact]
    public void CountsWinsLossesTiesAndTheMeanDifferenceOverProteinsScoredByBoth()
    {
        var a = new Dictionary<string, double> { ["p1"] = 0.5, ["p2"] = 0.2, ["p3"] = 0.4, ["p4"] = double.NaN, ["p5"] = 0.9 };
        var b = new Dictionary<string, double> { ["p1"] = 0.3, ["p2"] = 0.6, ["p3"] = 0.4, ["p4"] = 0.1 };
        var c = PairedComparison.Of("top_l5_long", a, b);
        Assert.Equal(["p1", "p2", "p3"], c.Rows.Select(r => r.Protein));   // p4 NaN on one side, p5 only in a
        Assert.Equal((1, 1, 1), (c.Wins, c.Losses, c.Ties));
        Assert.Equal((0.2 - 0.4 + 0) / 3, c.MeanDifference, 12);
        Assert.Equal("paired metric=top_l5_long n=3 wins=1 losses=1 ties=1 mean_diff=-0.0667", c.SummaryLine());
    }

    [Fact]
    public void ReadsEvalTablesAndNamesTheFileAndLineOfABadRow()
    {
        using var dir = new TempDir();
        string good = dir.Write("a.txt", "log line\nprotein\tL_chain\ttop_l5_long\nPF1\t50\t0.5000\nPF2\t60\tNaN\nmean_ca top_l5_long=0.1\nmean top_l5_long=0.5000\n");
        var column = PairedComparison.ReadColumn([good], "top_l5_long");
        Assert.Equal(0.5, column["PF1"]);
        Assert.True(double.IsNaN(column["PF2"]));
        string bad = dir.Write("b.txt", "protein\ttop_l5_long\nPF1\tzero\n");
        var e = Assert.Throws<InvalidDataException>(() => PairedComparison.ReadColumn([bad], "top_l5_long"));
        Assert.Contains("b.txt, line 2", e.Message);
        e = Assert.Throws<InvalidDataException>(() => PairedComparison.ReadColumn([good], "mcc"));
        Assert.Contains("no column 'mcc'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => PairedComparison.ReadColumn([good, good], "top_l5_long"));
        Assert.Contains("appears twice", e.Message);
    }
}
