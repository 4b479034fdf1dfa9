using EquiSharp.Applications.Protein.Formats;
using EquiSharp.IO;

namespace EquiSharp.Tests.Applications.Protein;

public class AlignmentReaderTests
{
    [Fact]
    public void Aligned_fasta_keeps_every_column_and_reads_dots_as_gaps()
    {
        var aln = AlignmentReader.Parse(">a/1-5 description\nACD-E\n>b\nAC.\nFE\n", "x.fasta");
        Assert.Equal(["a/1-5", "b"], aln.Names);
        Assert.Equal(["ACD-E", "AC-FE"], aln.Rows);
        Assert.Equal(5, aln.Width);
    }

    [Fact]
    public void A3m_and_a2m_drop_lower_case_inserts_and_dots()
    {
        var a3m = AlignmentReader.Parse(">q\nACDE\n>s\nAkkC-E\n>t\nA.CD.E\n");   // A3M rows have different raw widths
        Assert.Equal(["ACDE", "AC-E", "ACDE"], a3m.Rows);
        var a2m = AlignmentReader.Parse(">q\nA..CDE\n>s\nAkkC-E\n");
        Assert.Equal(["ACDE", "AC-E"], a2m.Rows);
    }

    [Fact]
    public void Stockholm_blocks_are_concatenated_and_gzip_is_read()
    {
        using var dir = new TempDir();
        string path = dir.WriteGzip("x.sto.gz", "# STOCKHOLM 1.0\n#=GF ID x\na ACD\nb A-D\n\na EF\nb .F\n#=GC SS_cons ....\n//\n");
        var aln = AlignmentReader.Read(path);
        Assert.Equal(["ACDEF", "A-D-F"], aln.Rows);
    }

    [Fact]
    public void States_map_residues_and_code_gaps_and_unknown_letters_as_gap()
    {
        var aln = AlignmentReader.Parse(">a\nAY-X\n");
        Assert.Equal(new byte[] { 0, 19, 20, 20 }, aln.EncodeStates());
    }

    [Theory]
    [InlineData(">a\nACDE\n>b\nACD\n", 3, "b", "row has 3 columns but the first row has 4")]
    [InlineData(">a\nAC1E\n", 1, "a", "illegal character '1'")]
    [InlineData("ACDE\n>a\nACDE\n", 1, null, "not an alignment")]
    [InlineData(">a\n>b\nACDE\n", 1, "a", "record has no sequence")]
    public void Malformed_alignments_name_file_line_and_problem(string text, int line, string? record, string problem)
    {
        var e = Assert.Throws<InputFormatException>(() => AlignmentReader.Parse(text, "bad.aln"));
        Assert.Equal("bad.aln", e.FileName);
        Assert.Equal(line, e.LineNumber);
        Assert.Equal(record, e.RecordName);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Illegal_character_reports_its_position()
    {
        var e = Assert.Throws<InputFormatException>(() => AlignmentReader.Parse(">a\nACDE\n>b\nAC#E\n", "p.aln"));
        Assert.Equal(3, e.Position);
        Assert.Equal(3, e.LineNumber);
    }
}
