using EquiSharp.Applications.Dna.Data;
using EquiSharp.Applications.Dna.Formats;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Dna;

public sealed class DnaFormatTests
{
    private const string Encode = ">M1\tALIAS\tsource\nA 1.0 0.0 0.0 0.0\nS 0.0 0.5 0.5 0.0\n>M2 other\nT 0 0 0 2\n";
    private const string Jaspar = ">MA0001.1 TEST\nA  [ 3  0  1 ]\nC  [ 0  4  1 ]\nG  [ 1  0  1 ]\nT  [ 0  0  1 ]\n";

    [Fact]
    public void ReadsEncodeStyleAndJasparMotifs()
    {
        using var dir = new TempDir();
        var encode = MotifReader.Read(dir.Write("m.txt", Encode));
        Assert.Equal(new[] { "M1", "M2" }, encode.Select(m => m.Name));
        Assert.Equal(0.5, encode[0].Probabilities[1, 2], 12);
        Assert.Equal(1.0, encode[1].Probabilities[0, 3], 12);   // counts are normalised
        var jaspar = MotifReader.Read(dir.Write("m.jaspar", Jaspar));
        Assert.Equal("MA0001.1", jaspar[0].Name);
        Assert.Equal(3, jaspar[0].Length);
        Assert.Equal(0.75, jaspar[0].Probabilities[0, 0], 12);
        Assert.Equal(0.25, jaspar[0].Probabilities[2, 3], 12);
        var rc = jaspar[0].ReverseComplement();
        Assert.Equal(jaspar[0].Probabilities[0, 0], rc.Probabilities[2, 3], 12);   // A at the first position = T at the last
        var gz = MotifReader.Read(dir.WriteGzip("m.txt.gz", Encode));
        Assert.Equal(2, gz.Count);
    }

    [Fact]
    public void MotifErrorsNameFileAndLine()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InvalidDataException>(() => MotifReader.Read(dir.Write("bad.txt", ">M1\nA 1 0 0\n")));
        Assert.Contains("bad.txt:2", e.Message);
        var n = Assert.Throws<InvalidDataException>(() => MotifReader.Read(dir.Write("nan.txt", ">M1\nA 1 x 0 0\n")));
        Assert.Contains("nan.txt:2", n.Message);
        var missing = Assert.Throws<InvalidDataException>(() => MotifReader.Select(MotifReader.Read(dir.Write("m.txt", Encode)), "m.txt", new[] { "NOPE" }));
        Assert.Contains("NOPE", missing.Message);
    }

    [Fact]
    public void FastaIsMultiLineCaseInsensitiveAndEncodesNAsZeros()
    {
        using var dir = new TempDir();
        var fa = dir.Write("s.fa", ">s1 description\nacgT\nNa\n>s2\nTTTTTT\n");
        var tsv = dir.Write("l.tsv", "id\tbound\ns2\t0\ns1\t1\n");
        var records = Fasta.Read(fa);
        Assert.Equal("ACGTNA", records[0].Sequence);
        var data = DnaDataSet.Load(fa, tsv, seed: 3);
        Assert.Equal(new[] { "s2", "s1" }, data.Ids);
        var x = data.OneHot(new long[] { 1 }, CPU);
        var expected = new float[,] { { 1, 0, 0, 0, 0, 1 }, { 0, 1, 0, 0, 0, 0 }, { 0, 0, 1, 0, 0, 0 }, { 0, 0, 0, 1, 0, 0 } };
        for (int b = 0; b < 4; b++) for (int l = 0; l < 6; l++) Assert.Equal(expected[b, l], x[0, b, l].item<float>());
        Assert.Equal("TNACGT", Fasta.ReverseComplement("ACGTNA"));
    }

    [Fact]
    public void MismatchedIdsLengthsAndLettersAreClearErrors()
    {
        using var dir = new TempDir();
        var letter = Assert.Throws<InvalidDataException>(() => Fasta.Read(dir.Write("x.fa", ">s1\nACGT\nACXT\n")));
        Assert.Contains("x.fa:3", letter.Message);
        Assert.Contains("'X'", letter.Message);
        var fa = dir.Write("s.fa", ">s1\nACGT\n>s2\nACG\n");
        var length = Assert.Throws<InvalidDataException>(() => DnaDataSet.Load(fa, dir.Write("l.tsv", "id\tt\ns1\t1\ns2\t0\n"), 1));
        Assert.Contains("s.fa:3", length.Message);
        Assert.Contains("length 3", length.Message);
        var missing = Assert.Throws<InvalidDataException>(() => DnaDataSet.Load(fa, dir.Write("m.tsv", "id\tt\ns1\t1\ns3\t0\n"), 1));
        Assert.Contains("m.tsv:3", missing.Message);
        Assert.Contains("'s3'", missing.Message);
        var unlabelled = Assert.Throws<InvalidDataException>(() => DnaDataSet.Load(fa, dir.Write("u.tsv", "id\tt\ns1\t1\n"), 1));
        Assert.Contains("'s2' has no row", unlabelled.Message);
        var value = Assert.Throws<InvalidDataException>(() => LabelTable.Read(dir.Write("v.tsv", "id\tt\tsplit\ns1\t2\ttrain\n")));
        Assert.Contains("v.tsv:2", value.Message);
        var split = Assert.Throws<InvalidDataException>(() => LabelTable.Read(dir.Write("w.tsv", "id\tt\tsplit\ns1\t1\tdev\n")));
        Assert.Contains("split 'dev'", split.Message);
    }

    [Fact]
    public void WithoutASplitColumnTheSplitIsSeeded40_30_30()
    {
        var a = DnaDataSet.RandomSplit(1000, 5);
        Assert.Equal(a, DnaDataSet.RandomSplit(1000, 5));
        Assert.NotEqual(a, DnaDataSet.RandomSplit(1000, 6));
        Assert.Equal(400, a.Count(s => s == DnaDataSet.Train));
        Assert.Equal(300, a.Count(s => s == DnaDataSet.Valid));
        Assert.Equal(300, a.Count(s => s == DnaDataSet.Test));
    }
}
