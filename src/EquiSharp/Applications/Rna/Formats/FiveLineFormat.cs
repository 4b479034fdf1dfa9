using EquiSharp.IO;
using System.Globalization;
using System.Text;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>
/// Five-line numeric records (ss-inf / SCNN 16S files): name; base codes A=0 C=1 G=2 U=3 other=4;
/// 1-based partners (0 = unpaired); paired flags (1 if paired); blank line. Trailing spaces are allowed.
/// </summary>
internal static class FiveLineFormat
{
    public static List<RnaStructure> Read(LineSource src, ReadContext ctx)
    {
        var records = new List<RnaStructure>();
        while (src.SkipBlank())
        {
            string name = src.Read().Trim();
            int nameLine = src.LineNumber;
            if (src.Count - src.Next < 3)
                throw ctx.Error(nameLine, name, null, "record needs a name line and three number lines");
            int[] codes = Numbers(src, ctx, name);
            int seqLine = src.LineNumber;
            int[] partners = Numbers(src, ctx, name);
            int pairLine = src.LineNumber;
            int[] flags = Numbers(src, ctx, name);
            int flagLine = src.LineNumber;
            if (partners.Length != codes.Length || flags.Length != codes.Length)
                throw ctx.Error(pairLine, name, null,
                    $"line lengths differ: {codes.Length} bases, {partners.Length} partners, {flags.Length} flags");

            var seq = new StringBuilder(codes.Length);
            int unknown = 0;
            for (int i = 0; i < codes.Length; i++)
            {
                if (codes[i] is < 0 or > 4) throw ctx.Error(seqLine, name, i + 1, $"base code {codes[i]} is not in 0..4");
                if (codes[i] == 4) unknown++;
                seq.Append(RnaStructure.BaseLetter(codes[i]));
                partners[i]--;
                if (ctx.Options.CheckPairedFlags && flags[i] != (partners[i] >= 0 ? 1 : 0))
                    throw ctx.Error(flagLine, name, i + 1, $"paired flag {flags[i]} disagrees with partner {partners[i] + 1}");
            }
            PairCheck.Validate(partners, ctx, name, _ => pairLine);
            ctx.AddUnknown(unknown);
            records.Add(ctx.Build(name, seq.ToString(), partners));
        }
        if (records.Count == 0) throw ctx.Error(null, null, null, "no record found");
        return records;
    }

    /// <summary>True if the first record of the input has the five-line shape.</summary>
    public static bool Matches(LineSource src, int first)
    {
        if (first < 0 || first + 3 >= src.Count) return false;
        string[] a = LineSource.Tokens(src[first + 1]), b = LineSource.Tokens(src[first + 2]), c = LineSource.Tokens(src[first + 3]);
        // Lengths are not compared here so that the reader can report a mismatch with its line number.
        return a.Length > 0 && b.Length > 0 && c.Length > 0
            && a.All(t => t is "0" or "1" or "2" or "3" or "4")
            && b.All(t => int.TryParse(t, CultureInfo.InvariantCulture, out _))
            && c.All(t => t is "0" or "1");
    }

    public static void Write(TextWriter w, RnaStructure s)
    {
        w.WriteLine(RnaFile.OneLine(s.Name));
        var sb = new StringBuilder();
        foreach (char b in s.Sequence) sb.Append((char)('0' + RnaStructure.BaseIndex(b))).Append(' ');
        w.WriteLine(sb.ToString());
        sb.Clear();
        foreach (int p in s.Partners) sb.Append((p + 1).ToString(CultureInfo.InvariantCulture)).Append(' ');
        w.WriteLine(sb.ToString());
        sb.Clear();
        foreach (int p in s.Partners) sb.Append(p >= 0 ? "1 " : "0 ");
        w.WriteLine(sb.ToString());
        w.WriteLine();
    }

    private static int[] Numbers(LineSource src, ReadContext ctx, string name)
    {
        string[] tok = LineSource.Tokens(src.Read());
        var values = new int[tok.Length];
        for (int i = 0; i < tok.Length; i++) values[i] = ctx.ParseInt(tok[i], src.LineNumber, name, i + 1);
        return values;
    }
}
