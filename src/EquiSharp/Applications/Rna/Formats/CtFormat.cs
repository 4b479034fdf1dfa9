using EquiSharp.IO;
using System.Globalization;
using System.Text.RegularExpressions;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>
/// Connectivity-table reader and writer. Tolerates free-text lines before each length line, "ENERGY =" and
/// "dG =" titles (mfold, RNAstructure) and several structures per file.
/// </summary>
internal static partial class CtFormat
{
    public static List<RnaStructure> Read(LineSource src, ReadContext ctx)
    {
        var records = new List<RnaStructure>();
        while (FindHeader(src) is int header)
        {
            string[] head = LineSource.Tokens(src[header]);
            int length = int.Parse(head[0], CultureInfo.InvariantCulture);
            string name = Title(src[header], head[0]) is { Length: > 0 } t ? t : ctx.DefaultName();
            src.Next = header + 1;
            var seq = new char[length];
            var partners = new int[length];
            var lines = new int[length];
            for (int k = 0; k < length; k++)
            {
                if (!src.SkipBlank())
                    throw ctx.Error(src.Count, name, k + 1, $"file ends after {k} of {length} positions");
                string[] tok = LineSource.Tokens(src.Read());
                int line = src.LineNumber;
                if (tok.Length < 6 || !int.TryParse(tok[0], CultureInfo.InvariantCulture, out int index) || index != k + 1)
                    throw ctx.Error(line, name, k + 1, $"expected the CT line for position {k + 1} of {length}");
                seq[k] = ReadContext.BaseChar(tok[1]);
                partners[k] = ctx.ParseInt(tok[4], line, name, k + 1) - 1;
                lines[k] = line;
            }
            PairCheck.Validate(partners, ctx, name, p => lines[p]);
            records.Add(ctx.Build(name, ctx.Sequence(seq), partners));
        }
        if (records.Count == 0) throw ctx.Error(null, null, null, "no CT record found");
        return records;
    }

    /// <summary>True if the line looks like a CT data line for the 1-based <paramref name="index"/>.</summary>
    public static bool IsDataLine(string line, int index)
    {
        string[] t = LineSource.Tokens(line);
        return t.Length >= 6 && t[0] == index.ToString(CultureInfo.InvariantCulture)
            && int.TryParse(t[2], CultureInfo.InvariantCulture, out _) && int.TryParse(t[4], CultureInfo.InvariantCulture, out _);
    }

    public static void Write(TextWriter w, RnaStructure s)
    {
        w.Write(s.Length.ToString(CultureInfo.InvariantCulture));
        w.Write('\t');
        w.WriteLine(RnaFile.OneLine(s.Name));
        for (int i = 0; i < s.Length; i++)
        {
            int n = i + 1;
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{n,5} {s.Sequence[i]} {n - 1,5} {(n < s.Length ? n + 1 : 0),5} {s.Partners[i] + 1,5} {n,5}"));
        }
    }

    /// <summary>Finds the next length line (integer first token followed by position 1, or a zero-length record); skips free text.</summary>
    private static int? FindHeader(LineSource src)
    {
        for (int i = src.Next; i < src.Count; i++)
        {
            string[] t = LineSource.Tokens(src[i]);
            if (t.Length == 0 || !int.TryParse(t[0], CultureInfo.InvariantCulture, out int n) || n <= 0) continue;
            int next = src.NextNonBlank(i + 1);
            if (next >= 0 && IsDataLine(src[next], 1)) return i;
        }
        src.Next = src.Count;
        return null;
    }

    /// <summary>The record title: header text after the length, without an energy annotation.</summary>
    private static string Title(string header, string lengthToken)
    {
        string rest = header.TrimStart()[lengthToken.Length..];
        rest = EnergyPattern().Replace(rest, " ");
        return rest.Trim();
    }

    [GeneratedRegex(@"(?:(?:ENERGY|dG)\s*=\s*[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)|\[initially\s+[^\]]*\]", RegexOptions.IgnoreCase)]
    private static partial Regex EnergyPattern();
}
