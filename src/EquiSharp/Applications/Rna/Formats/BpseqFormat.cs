using EquiSharp.IO;
using System.Globalization;
using System.Text.RegularExpressions;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>
/// BPSEQ reader and writer: optional header lines (e.g. "#Name: x", "Filename: x"), then "index base partner"
/// lines with partner 0 = unpaired. A new record starts when the index restarts at 1.
/// </summary>
internal static partial class BpseqFormat
{
    public static List<RnaStructure> Read(LineSource src, ReadContext ctx)
    {
        var records = new List<RnaStructure>();
        string? name = null;
        var seq = new List<char>();
        var partners = new List<int>();
        var lines = new List<int>();

        void Flush()
        {
            if (seq.Count == 0) return;
            string n = name ?? ctx.DefaultName();
            int[] p = partners.ToArray();
            for (int i = 0; i < p.Length; i++) p[i]--;
            PairCheck.Validate(p, ctx, n, i => lines[i]);
            records.Add(ctx.Build(n, ctx.Sequence(seq.ToArray()), p));
            seq.Clear(); partners.Clear(); lines.Clear();
            name = null;
        }

        while (src.SkipBlank())
        {
            string text = src.Read();
            int line = src.LineNumber;
            if (!IsDataLine(text, out int index))
            {
                if (seq.Count > 0 && !text.TrimStart().StartsWith('#'))
                    throw ctx.Error(line, name, seq.Count + 1, "malformed BPSEQ line (expected 'index base partner')");
                Flush();
                if (NamePattern().Match(text) is { Success: true } m) name = m.Groups[1].Value.Trim();
                continue;
            }
            if (index == 1) Flush();
            string[] tok = LineSource.Tokens(text);
            string record = name ?? ctx.DefaultName();
            if (index != seq.Count + 1)
                throw ctx.Error(line, record, seq.Count + 1, $"expected position {seq.Count + 1} but found {index}");
            seq.Add(ReadContext.BaseChar(tok[1]));
            partners.Add(ctx.ParseInt(tok[2], line, record, index));
            lines.Add(line);
        }
        Flush();
        if (records.Count == 0) throw ctx.Error(null, null, null, "no BPSEQ record found");
        return records;
    }

    /// <summary>True for an "index base partner" line.</summary>
    public static bool IsDataLine(string line, out int index)
    {
        string[] t = LineSource.Tokens(line);
        index = 0;
        return t.Length == 3 && int.TryParse(t[0], CultureInfo.InvariantCulture, out index)
            && int.TryParse(t[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
    }

    public static void Write(TextWriter w, RnaStructure s)
    {
        w.WriteLine("#Name: " + RnaFile.OneLine(s.Name));
        for (int i = 0; i < s.Length; i++)
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i + 1} {s.Sequence[i]} {s.Partners[i] + 1}"));
    }

    [GeneratedRegex(@"^\s*#?\s*(?:Name|Filename)\s*:\s*(.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex NamePattern();
}
