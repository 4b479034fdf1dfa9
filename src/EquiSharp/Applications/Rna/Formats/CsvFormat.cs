using EquiSharp.IO;
using System.Text;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>
/// CSV with a required header naming the name, sequence and dot-bracket columns
/// (rna_name|name|id, seq|sequence, struct|structure; case-insensitive, any order). Quoted fields are allowed.
/// </summary>
internal static class CsvFormat
{
    public static List<RnaStructure> Read(LineSource src, ReadContext ctx)
    {
        if (!src.SkipBlank()) throw ctx.Error(null, null, null, "empty CSV file");
        string headerText = src.Read();
        if (Columns(SplitFields(headerText, ctx, src.LineNumber)) is not var (nameCol, seqCol, structCol))
            throw ctx.Error(src.LineNumber, null, null, "CSV header must name the columns rna_name, seq and struct");

        var records = new List<RnaStructure>();
        int needed = Math.Max(nameCol, Math.Max(seqCol, structCol)) + 1;
        while (src.SkipBlank())
        {
            string text = src.Read();
            int line = src.LineNumber;
            var fields = SplitFields(text, ctx, line);
            if (fields.Count < needed)
                throw ctx.Error(line, null, null, $"expected at least {needed} fields but found {fields.Count}");
            string name = fields[nameCol].Trim() is { Length: > 0 } n ? n : ctx.DefaultName();
            string seq = fields[seqCol].Trim(), structure = fields[structCol].Trim();
            if (seq.Length != structure.Length)
                throw ctx.Error(line, name, Math.Min(seq.Length, structure.Length) + 1,
                    $"sequence has {seq.Length} letters but structure has {structure.Length} characters");
            int[] partners = DotBracket.Parse(structure, ctx, name, _ => line);
            records.Add(ctx.Build(name, ctx.Sequence(seq), partners));
        }
        return records;
    }

    /// <summary>True if the line is a CSV header with name, sequence and structure columns.</summary>
    public static bool IsHeader(string line) =>
        line.Contains(',') && Columns(SplitFields(line, null, 0)) is not null;

    public static void WriteHeader(TextWriter w) => w.WriteLine("rna_name,seq,struct");

    public static void Write(TextWriter w, RnaStructure s) =>
        w.WriteLine($"{Quote(RnaFile.OneLine(s.Name))},{s.Sequence},{DotBracket.Format(s.Partners)}");

    private static (int Name, int Seq, int Struct)? Columns(List<string> header)
    {
        int Find(params string[] names) =>
            header.FindIndex(h => names.Contains(h.Trim().ToLowerInvariant()));
        int name = Find("rna_name", "name", "id"), seq = Find("seq", "sequence"), st = Find("struct", "structure");
        return name >= 0 && seq >= 0 && st >= 0 ? (name, seq, st) : null;
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

    /// <summary>Splits one CSV line; quoted fields may contain commas and doubled quotes.</summary>
    private static List<string> SplitFields(string line, ReadContext? ctx, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        if (quoted && ctx is not null) throw ctx.Error(lineNumber, null, null, "unterminated quoted field");
        fields.Add(field.ToString());
        return fields;
    }
}
