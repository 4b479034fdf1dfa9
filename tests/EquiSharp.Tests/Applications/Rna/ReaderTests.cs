using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Tests.Applications.Rna;

public sealed class ReaderTests
{
    // Hairpin GGGAAAUCCC = (((....))) with one lower-case base and a T to exercise normalisation.
    private const string CtBody = """
            1 G       0    2   10    1
            2 G       1    3    9    2
            3 g       2    4    8    3
            4 A       3    5    0    4
            5 A       4    6    0    5
            6 A       5    7    0    6
            7 T       6    8    0    7
            8 C       7    9    3    8
            9 C       8   10    2    9
           10 C       9    0    1   10
        """;

    private static readonly int[] Hairpin = [9, 8, 7, -1, -1, -1, -1, 2, 1, 0];

    [Theory]
    [InlineData("   10  ENERGY = -4.5    my hairpin\n", "my hairpin")]
    [InlineData("10 dG = -4.50 [initially -5.0] my hairpin\n", "my hairpin")]
    [InlineData("10\tmy hairpin\n", "my hairpin")]
    [InlineData("# File: hairpin.ct\nSome free text about the source\n\n10 my hairpin\n", "my hairpin")]
    public void CtHeaderVariantsGiveNameAndPairs(string header, string name)
    {
        using var dir = new TempDir();
        var r = RnaFile.Read(dir.Write("hairpin.dat", header + CtBody + "\n"));
        Assert.Equal(RnaFileFormat.Ct, r.Format);
        var s = Assert.Single(r.Records);
        Assert.Equal(name, s.Name);
        Assert.Equal("GGGAAAUCCC", s.Sequence);
        Assert.Equal(Hairpin, s.Partners);
        Assert.Equal(0, r.UnknownLetterCount);
    }

    [Fact]
    public void CtWithoutTitleUsesFileNameAndRecordNumber()
    {
        using var dir = new TempDir();
        var r = RnaFile.Read(dir.Write("plain.ct", "10\n" + CtBody));
        Assert.Equal("plain#1", r.Records.Single().Name);
    }

    [Fact]
    public void CtFileWithSeveralStructuresReadsAll()
    {
        string second = """
            4  ENERGY = -1.0  second
                1 G 0 2 4 1
                2 A 1 3 0 2
                3 A 2 4 0 3
                4 C 3 0 1 4
            """;
        using var dir = new TempDir();
        var r = RnaFile.Read(dir.Write("multi.txt", "10 ENERGY = -4.5 first\n" + CtBody + "\n" + second));
        Assert.Equal(["first", "second"], r.Records.Select(x => x.Name));
        Assert.Equal([3, -1, -1, 0], r.Records[1].Partners);
    }

    [Fact]
    public void GzipIsDetectedByMagicBytesNotExtension()
    {
        using var dir = new TempDir();
        string gz = dir.WriteGzip("hairpin.ct", "10 zipped\n" + CtBody);
        string plainNamedGz = dir.Write("plain.gz", "10 plain\n" + CtBody);
        Assert.Equal("zipped", RnaFile.Read(gz).Records.Single().Name);
        Assert.Equal("plain", RnaFile.Read(plainNamedGz).Records.Single().Name);
    }

    [Fact]
    public void BpseqWithHeaderLines()
    {
        string text = """
            Filename: d.16.b.E.coli.bpseq
            Organism: Escherichia coli
            Accession Number: J01695
            Citation and related information available at http://www.rna.ccbb.utexas.edu
            1 G 6
            2 A 0
            3 a 0
            4 U 0
            5 R 0
            6 C 1
            """;
        using var dir = new TempDir();
        var r = RnaFile.Read(dir.Write("x.txt", text));
        Assert.Equal(RnaFileFormat.Bpseq, r.Format);
        var s = r.Records.Single();
        Assert.Equal("d.16.b.E.coli.bpseq", s.Name);
        Assert.Equal("GAAUNC", s.Sequence);
        Assert.Equal([(0, 5)], s.Pairs());
        Assert.Equal(1, r.UnknownLetterCount);
        Assert.Single(r.Warnings, w => w.Contains("1 unknown letter"));
    }

    [Fact]
    public void DotBracketFastaWithWrappedSequenceEnergyAndLetterPseudoknots()
    {
        string text = """
            >first
            GGGAA
            AUCCC
            (((....))) (-3.20)

            >second knot
            GGAACCUUGGAAUUXY
            ((..[[..))..]]Aa
            """;
        using var dir = new TempDir();
        var r = RnaFile.Read(dir.WriteGzip("s.fa.gz", text));
        Assert.Equal(RnaFileFormat.DotBracketFasta, r.Format);
        Assert.Equal(["first", "second knot"], r.Records.Select(x => x.Name));
        Assert.Equal(Hairpin, r.Records[0].Partners);
        Assert.Equal([(0, 9), (1, 8), (4, 13), (5, 12), (14, 15)], r.Records[1].Pairs().OrderBy(p => p.I));
        Assert.Equal(2, r.UnknownLetterCount);
    }

    [Fact]
    public void DotBracketFastaWithWrappedStructure()
    {
        var r = RnaFile.Parse(">w\nGGGAA\nAUCCC\n(((..\n..)))\n");
        Assert.Equal(Hairpin, r.Records.Single().Partners);
    }

    [Fact]
    public void CsvWithQuotedFieldsAndUnknownLetters()
    {
        string text = """
            rna_name,seq,struct
            "CP002582.1/1-10, copy",GGGAAAUCCC,(((....)))
            plain,"ACGNRY",((..))
            third,acguAC,[[..]]
            """;
        using var dir = new TempDir();
        var r = RnaFile.Read(dir.Write("data.csv", text));
        Assert.Equal(RnaFileFormat.Csv, r.Format);
        Assert.Equal(["CP002582.1/1-10, copy", "plain", "third"], r.Records.Select(x => x.Name));
        Assert.Equal("ACGNNN", r.Records[1].Sequence);
        Assert.Equal("ACGUAC", r.Records[2].Sequence);
        Assert.Equal([5, 4, -1, -1, 1, 0], r.Records[2].Partners);
        Assert.Equal(3, r.UnknownLetterCount);
        Assert.Contains("3 unknown letter(s) in 1 record(s)", r.Warnings.Single());
    }

    [Fact]
    public void CsvColumnsMayComeInAnyOrderAndCase()
    {
        var r = RnaFile.Parse("Structure,ID,Sequence,extra\n(..),x1,GAAC,1\n");
        Assert.Equal(RnaFileFormat.Csv, r.Format);
        Assert.Equal(new RnaStructure("x1", "GAAC", [3, -1, -1, 0]), r.Records.Single());
    }

    [Fact]
    public void CsvWithoutHeaderIsNotRecognised()
    {
        var e = Assert.Throws<RnaFormatException>(() => RnaFile.Parse("x,GGGAAAUCCC,(((....)))\n", "nohead.csv"));
        Assert.Contains("nohead.csv", e.Message);
        Assert.Contains("unrecognised format", e.Message);
    }

    [Fact]
    public void FiveLineRecordsWithTrailingSpacesAndCodeFour()
    {
        string text =
            "strand/16s/CRW_1.ct\n2 2 2 0 4 0 3 1 1 1 \n10 9 8 0 0 0 0 3 2 1 \n1 1 1 0 0 0 0 1 1 1 \n\n" +
            "strand/16s/CRW_2.ct\n0 3 \n2 1 \n1 1 \n\n";
        using var dir = new TempDir();
        var r = RnaFile.Read(dir.WriteGzip("16s.txt.gz", text));
        Assert.Equal(RnaFileFormat.FiveLine, r.Format);
        Assert.Equal("GGGANAUCCC", r.Records[0].Sequence);
        Assert.Equal(Hairpin, r.Records[0].Partners);
        Assert.Equal("strand/16s/CRW_2.ct", r.Records[1].Name);
        Assert.Equal([1, 0], r.Records[1].Partners);
        Assert.Equal(1, r.UnknownLetterCount);
    }

    [Fact]
    public void ForcedFormatOverridesDetection()
    {
        var e = Assert.Throws<RnaFormatException>(() =>
            RnaFile.Parse(">x\nGC\n()\n", "f.fa", new RnaReadOptions { Format = RnaFileFormat.Ct }));
        Assert.Contains("no CT record", e.Message);
    }

    [Fact]
    public void PairedFlagCheckCanBeDisabled()
    {
        const string text = "x\n2 1 \n2 1 \n0 0 \n\n";
        Assert.Throws<RnaFormatException>(() => RnaFile.Parse(text));
        var r = RnaFile.Parse(text, options: new RnaReadOptions { CheckPairedFlags = false });
        Assert.Equal([1, 0], r.Records.Single().Partners);
    }
}
