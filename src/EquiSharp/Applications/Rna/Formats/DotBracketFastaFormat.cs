using EquiSharp.IO;
using System.Text;
using System.Text.RegularExpressions;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>
/// FASTA-style dot-bracket: "&gt;name", sequence line(s), structure line(s). Sequence and structure may both be
/// wrapped: the split is the unique point where both halves have the same length. A trailing energy such as
/// " (-12.30)" (RNAfold output) is ignored.
/// </summary>
internal static partial class DotBracketFastaFormat
{
    public static List<RnaStructure> Read(LineSource src, ReadContext ctx)
    {
        var records = new List<RnaStructure>();
        while (src.SkipBlank())
        {
            string header = src.Read().TrimStart();
            int headerLine = src.LineNumber;
            if (!header.StartsWith('>'))
                throw ctx.Error(headerLine, null, null, "expected a '>name' header line");
            string name = header[1..].Trim() is { Length: > 0 } n ? n : ctx.DefaultName();

            var body = new List<(string Text, int Line)>();
            while (src.SkipBlank() && !src[src.Next].TrimStart().StartsWith('>'))
            {
                string text = EnergyPattern().Replace(src.Read(), "");
                body.Add((string.Concat(text.Where(c => !char.IsWhiteSpace(c))), src.LineNumber));
            }
            int split = FindSplit(body);
            if (split < 0)
                throw ctx.Error(body.Count > 0 ? body[^1].Line : headerLine, name, null,
                    body.Count < 2 ? "missing sequence or structure line" : "sequence and structure lengths differ");

            string seqText = string.Concat(body.Take(split).Select(b => b.Text));
            var structure = new StringBuilder();
            var lineStarts = new List<(int Start, int Line)>();
            foreach (var (text, line) in body.Skip(split))
            {
                lineStarts.Add((structure.Length, line));
                structure.Append(text);
            }
            int LineOf(int pos) => lineStarts.Last(s => s.Start <= pos).Line;
            int[] partners = DotBracket.Parse(structure.ToString(), ctx, name, LineOf);
            records.Add(ctx.Build(name, ctx.Sequence(seqText), partners));
        }
        if (records.Count == 0) throw ctx.Error(null, null, null, "no dot-bracket record found");
        return records;
    }

    public static void Write(TextWriter w, RnaStructure s)
    {
        w.WriteLine(">" + RnaFile.OneLine(s.Name));
        w.WriteLine(s.Sequence);
        w.WriteLine(DotBracket.Format(s.Partners));
    }

    /// <summary>Number of lines that form the sequence: the split where both halves have equal length (unique as lengths only grow).</summary>
    private static int FindSplit(List<(string Text, int Line)> body)
    {
        int total = body.Sum(b => b.Text.Length), prefix = 0;
        for (int s = 1; s < body.Count; s++)
        {
            prefix += body[s - 1].Text.Length;
            if (2 * prefix == total) return s;
        }
        return -1;
    }

    [GeneratedRegex(@"\s+\(\s*[-+]?\d*\.?\d+\s*\)\s*$")]
    private static partial Regex EnergyPattern();
}
