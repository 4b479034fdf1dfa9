using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Tests.Applications.Rna;

/// <summary>Each kind of inconsistency must throw with the file, line, record and position in the message.</summary>
public sealed class MalformedInputTests
{
    private static RnaFormatException ReadFails(string fileName, string text)
    {
        using var dir = new TempDir();
        string path = dir.Write(fileName, text);
        var e = Assert.Throws<RnaFormatException>(() => RnaFile.Read(path));
        Assert.Contains(fileName, e.Message);
        return e;
    }

    private static void AssertLocated(RnaFormatException e, int line, string record, int position, string problem)
    {
        Assert.Equal(line, e.LineNumber);
        Assert.Equal(record, e.RecordName);
        Assert.Equal(position, e.Position);
        Assert.Contains($"line {line}", e.Message);
        Assert.Contains($"'{record}'", e.Message);
        Assert.Contains($"position {position}", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void CtAsymmetricPairing()
    {
        // Position 1 pairs with 4, but 4 says it is unpaired.
        var e = ReadFails("asym.ct", "4 hp\n1 G 0 2 4 1\n2 A 1 3 0 2\n3 A 2 4 0 3\n4 C 3 0 0 4\n");
        AssertLocated(e, 2, "hp", 1, "but 4 is unpaired");
    }

    [Fact]
    public void CtPartnerOutOfRange()
    {
        var e = ReadFails("range.ct", "4 hp\n1 G 0 2 0 1\n2 A 1 3 0 2\n3 A 2 4 9 3\n4 C 3 0 0 4\n");
        AssertLocated(e, 4, "hp", 3, "outside 1..4");
    }

    [Fact]
    public void CtPositionPairedTwice()
    {
        // Positions 1 and 2 both claim 4.
        var e = ReadFails("twice.ct", "4 hp\n1 G 0 2 4 1\n2 A 1 3 4 2\n3 A 2 4 0 3\n4 C 3 0 2 4\n");
        AssertLocated(e, 2, "hp", 1, "position 4 is paired twice (with 1 and 2)");
    }

    [Fact]
    public void CtSelfPair()
    {
        var e = ReadFails("self.ct", "2 hp\n1 G 0 2 0 1\n2 A 1 0 2 2\n");
        AssertLocated(e, 3, "hp", 2, "pairs with itself");
    }

    [Fact]
    public void CtTruncatedRecord()
    {
        var e = ReadFails("short.ct", "5 hp\n1 G 0 2 0 1\n2 A 1 3 0 2\n3 A 2 4 0 3\n");
        AssertLocated(e, 4, "hp", 4, "file ends after 3 of 5 positions");
    }

    [Fact]
    public void CtOutOfOrderIndex()
    {
        var e = ReadFails("order.ct", "3 hp\n1 G 0 2 0 1\n3 A 1 3 0 2\n2 A 2 4 0 3\n");
        AssertLocated(e, 3, "hp", 2, "expected the CT line for position 2");
    }

    [Fact]
    public void BpseqAsymmetricPairing()
    {
        var e = ReadFails("a.bpseq", "#Name: bp\n1 G 3\n2 A 0\n3 C 2\n");
        AssertLocated(e, 2, "bp", 1, "pairs with 3, but 3 pairs with 2");
    }

    [Fact]
    public void BpseqBadPartnerToken()
    {
        var e = ReadFails("b.bpseq", "#Name: bp\n1 G 3\n2 A x\n3 C 1\n");
        AssertLocated(e, 3, "bp", 2, "malformed BPSEQ line");
    }

    [Fact]
    public void FastaUnbalancedBrackets()
    {
        var e = ReadFails("u.fa", ">one\nGGAC\n(())\n>two\nGGGAAAUCCC\n(((....)).\n");
        AssertLocated(e, 6, "two", 1, "never closed");
    }

    [Fact]
    public void FastaUnbalancedBracketOnSecondStructureLine()
    {
        var e = ReadFails("w.fa", ">w\nGGGAA\nAUCCC\n(((..\n..))))\n".Replace("AUCCC\n", "AUCCCA\n"));
        AssertLocated(e, 5, "w", 11, "closes nothing");
    }

    [Fact]
    public void FastaLengthMismatch()
    {
        var e = ReadFails("m.fa", ">m\nGGGAAAUCC\n(((....)))\n");
        Assert.Contains("line 3", e.Message);
        Assert.Contains("'m'", e.Message);
        Assert.Contains("lengths differ", e.Message);
    }

    [Fact]
    public void CsvUnbalancedAndMismatchedRows()
    {
        var e = ReadFails("c.csv", "rna_name,seq,struct\nok,GC,()\nbad,GGAC,(.))\n");
        AssertLocated(e, 3, "bad", 4, "closes nothing");
        var m = ReadFails("d.csv", "rna_name,seq,struct\nshort,GGA,(.))\n");
        AssertLocated(m, 2, "short", 4, "sequence has 3 letters but structure has 4");
    }

    [Fact]
    public void FiveLineAsymmetricOutOfRangeAndBadCode()
    {
        var asym = ReadFails("asym.txt", "r1\n0 1 2 \n3 0 1 \n1 0 1 \n\nr2\n0 1 2 \n3 0 2 \n1 0 1 \n\n");
        AssertLocated(asym, 8, "r2", 1, "pairs with 3, but 3 pairs with 2");
        var range = ReadFails("range.txt", "r1\n0 1 \n0 7 \n0 1 \n\n");
        AssertLocated(range, 3, "r1", 2, "outside 1..2");
        var code = ReadFails("code.txt", "ok\n0 3 \n2 1 \n1 1 \n\nr2\n0 9 \n2 1 \n1 1 \n\n");
        AssertLocated(code, 7, "r2", 2, "base code 9");
    }

    [Fact]
    public void FiveLineFlagMismatchAndLengthMismatch()
    {
        var flag = ReadFails("flag.txt", "r\n0 3 0 \n2 1 0 \n1 1 1 \n\n");
        AssertLocated(flag, 4, "r", 3, "paired flag 1 disagrees");
        var len = ReadFails("len.txt", "r\n0 3 0 \n2 1 0 \n1 1 \n\n");
        Assert.Contains("line 3", len.Message);
        Assert.Contains("line lengths differ", len.Message);
    }

    [Fact]
    public void UnknownLettersNeverThrow()
    {
        var r = RnaFile.Parse(">x\nA?CZ-UT\n(.....)\n");
        Assert.Equal("ANCNNUU", r.Records.Single().Sequence);
        Assert.Equal(3, r.UnknownLetterCount);
    }

    [Fact]
    public void EmptyAndUnrecognisedFilesThrow()
    {
        Assert.Contains("unrecognised", ReadFails("empty.txt", "").Message);
        Assert.Contains("unrecognised", ReadFails("prose.txt", "just some words\nand more\n").Message);
    }
}
