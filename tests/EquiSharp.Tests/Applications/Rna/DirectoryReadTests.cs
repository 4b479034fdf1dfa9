using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Tests.Applications.Rna;

public sealed class DirectoryReadTests
{
    [Fact]
    public void ReadsEveryParsableFileAndReportsSkippedOnes()
    {
        using var dir = new TempDir();
        dir.Write("a.ct", "4 ct-record\n1 G 0 2 4 1\n2 A 1 3 0 2\n3 A 2 4 0 3\n4 C 3 0 1 4\n");
        dir.WriteGzip("b.dat", ">fa-record\nGGAC\n(..)\n");
        dir.Write("c.csv", "rna_name,seq,struct\ncsv-record,GNNC,(..)\n");
        dir.Write("d.txt", "notes about the data set\n");
        dir.Write("e.fa", ">broken\nGGAC\n((.)\n");
        dir.WriteGzip("f.gz", "");
        Directory.CreateDirectory(Path.Combine(dir.Path, "sub"));

        var r = RnaFile.ReadDirectory(dir.Path);

        Assert.Equal(["ct-record", "fa-record", "csv-record"], r.Records.Select(x => x.Name));
        Assert.Equal([RnaFileFormat.Ct, RnaFileFormat.DotBracketFasta, RnaFileFormat.Csv], r.Files.Select(f => f.Format));
        Assert.Equal(["d.txt", "e.fa", "f.gz"], r.Skipped.Select(s => Path.GetFileName(s.Path)));
        Assert.Contains("unrecognised", r.Skipped[0].Reason);
        Assert.Contains("never closed", r.Skipped[1].Reason);
        Assert.Equal(2, r.Files[2].UnknownLetterCount);
    }

    [Fact]
    public void CorruptGzipIsSkippedNotThrown()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(Path.Combine(dir.Path, "bad.gz"), [0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]);
        var r = RnaFile.ReadDirectory(dir.Path);
        Assert.Empty(r.Files);
        Assert.Single(r.Skipped);
    }
}
