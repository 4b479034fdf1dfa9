using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Tests.Applications.Rna;

public sealed class RoundTripTests
{
    /// <summary>A random matching of <paramref name="pairs"/> pairs on <paramref name="length"/> positions (crossings allowed).</summary>
    internal static int[] RandomPartners(Random rng, int length, int pairs)
    {
        int[] order = Enumerable.Range(0, length).OrderBy(_ => rng.Next()).ToArray();
        var partners = new int[length];
        Array.Fill(partners, -1);
        for (int k = 0; k < pairs; k++)
        {
            int a = order[2 * k], b = order[2 * k + 1];
            partners[a] = b;
            partners[b] = a;
        }
        return partners;
    }

    private static List<RnaStructure> Samples()
    {
        var rng = new Random(42);
        var list = new List<RnaStructure>
        {
            new("hairpin", "GGGAAAUCCC", DotBracket.Parse("(((....)))")),
            new("kissing, \"quoted\" name", "GGAACCUUGGAAUU", DotBracket.Parse("((..[[..))..]]")),
            new("six-level knot", "ACGUNACGUNAC", DotBracketTests.MutuallyCrossing(6)),
            new("unpaired", "ACGUN", [-1, -1, -1, -1, -1]),
        };
        for (int i = 0; i < 5; i++)
        {
            int[] p = RandomPartners(rng, 60, 20);
            string seq = new(Enumerable.Range(0, 60).Select(_ => "ACGUN"[rng.Next(5)]).ToArray());
            list.Add(new RnaStructure($"random-{i}", seq, p));
        }
        return list;
    }

    public static TheoryData<RnaFileFormat> AllFormats() => new(Enum.GetValues<RnaFileFormat>());

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void WriteThenReadGivesSameRecords(RnaFileFormat format)
    {
        var samples = Samples();
        Assert.Contains(samples, s => DotBracket.AssignLevels(s.Partners).Max() >= 5);
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "out.data");
        RnaFile.Write(path, samples, format);

        var result = RnaFile.Read(path);
        Assert.Equal(format, result.Format);
        Assert.Equal(samples.Count, result.Records.Count);
        for (int i = 0; i < samples.Count; i++)
        {
            Assert.Equal(samples[i].Sequence, result.Records[i].Sequence);
            Assert.Equal(samples[i].Pairs(), result.Records[i].Pairs());
            Assert.Equal(samples[i].Name, result.Records[i].Name);
        }
        Assert.Equal(samples.Sum(s => s.Sequence.Count(c => c == 'N')), result.UnknownLetterCount);
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void GzipOutputRoundTripsAndIsCompressed(RnaFileFormat format)
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "out.gz");
        RnaFile.Write(path, Samples(), format);
        byte[] head = File.ReadAllBytes(path)[..2];
        Assert.Equal(new byte[] { 0x1f, 0x8b }, head);
        Assert.Equal(Samples(), RnaFile.Read(path).Records);
    }

    [Fact]
    public void WritingReplacesTheFileAndLeavesNoTempFiles()
    {
        using var dir = new TempDir();
        string path = dir.Write("x.ct", "old content");
        RnaFile.Write(path, Samples().Take(1), RnaFileFormat.Ct);
        Assert.Equal("hairpin", RnaFile.Read(path).Records.Single().Name);
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void BareStructureStringRoundTripsWithSixLevels()
    {
        int[] p = DotBracketTests.MutuallyCrossing(6);
        Assert.Equal(p, DotBracket.Parse(DotBracket.Format(p)));
    }
}
