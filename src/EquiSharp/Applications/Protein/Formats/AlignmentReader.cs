using System.Text;
using EquiSharp.IO;

namespace EquiSharp.Applications.Protein.Formats;

/// <summary>
/// Reads aligned FASTA, A2M, A3M and Stockholm alignments (plain or gzip; detected from the content: "# STOCKHOLM"
/// or '&gt;'). Gaps are '-' and '.'. When any row has lower-case letters the file is read as A2M/A3M: lower-case
/// letters and '.' are insert states and are dropped, leaving the match columns. Otherwise every character is a
/// column and '.' is a gap. Rows must then all have the same width.
/// </summary>
public static class AlignmentReader
{
    /// <summary>Reads an alignment file.</summary>
    /// <exception cref="InputFormatException">No sequences, an illegal character, or rows of different widths.</exception>
    public static MultipleAlignment Read(string path) => Parse(LineSource.FromFile(path), path);

    /// <summary>Reads alignment text already in memory; <paramref name="sourceName"/> is used in messages.</summary>
    public static MultipleAlignment Parse(string text, string sourceName = "<text>") => Parse(LineSource.FromText(text), sourceName);

    private static MultipleAlignment Parse(LineSource lines, string source)
    {
        int first = lines.NextNonBlank(0);
        if (first < 0) throw new InputFormatException(source, null, "empty alignment file");
        var records = lines[first].StartsWith("# STOCKHOLM", StringComparison.Ordinal) ? ReadStockholm(lines, source)
            : lines[first].StartsWith('>') ? ReadFasta(lines, source)
            : throw new InputFormatException(source, first + 1, "not an alignment: expected '>' (FASTA/A2M/A3M) or '# STOCKHOLM'");
        if (records.Count == 0) throw new InputFormatException(source, null, "no sequences");
        bool hasInserts = records.Any(r => r.Raw.ToString().Any(char.IsLower));
        var rows = new List<string>(records.Count);
        foreach (var r in records)
        {
            string row = MatchColumns(r, source, hasInserts);
            if (rows.Count > 0 && row.Length != rows[0].Length)
                throw new InputFormatException(source, r.Line, r.Name, null,
                    $"row has {row.Length} {(hasInserts ? "match " : "")}columns but the first row has {rows[0].Length}");
            rows.Add(row);
        }
        if (rows[0].Length == 0) throw new InputFormatException(source, records[0].Line, records[0].Name, null, "row has no columns");
        return new MultipleAlignment(source, records.Select(r => r.Name).ToList(), rows);
    }

    /// <summary>Upper-case letters and '-' of a row; inserts dropped when the file has them; '.' a gap otherwise.</summary>
    private static string MatchColumns(Record r, string source, bool hasInserts)
    {
        var row = new StringBuilder(r.Raw.Length);
        for (int i = 0; i < r.Raw.Length; i++)
        {
            char c = r.Raw[i];
            if (c is >= 'A' and <= 'Z' or '-') row.Append(c);
            else if (c == '.') { if (!hasInserts) row.Append('-'); }
            else if (c is >= 'a' and <= 'z') { }
            else if (c == '*' && i == r.Raw.Length - 1) { }   // a stop symbol closing the sequence
            else throw new InputFormatException(source, r.Line, r.Name, i + 1, $"illegal character '{c}' in an aligned sequence");
        }
        return row.ToString();
    }

    private sealed record Record(string Name, int Line, StringBuilder Raw);

    private static List<Record> ReadFasta(LineSource lines, string source)
    {
        var records = new List<Record>();
        while (!lines.AtEnd)
        {
            string line = lines.Read().Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith('>'))
            {
                string name = line[1..].Split([' ', '\t'], 2)[0];
                if (name.Length == 0) throw new InputFormatException(source, lines.LineNumber, "header '>' has no name");
                records.Add(new Record(name, lines.LineNumber, new StringBuilder()));
            }
            else if (records.Count == 0) throw new InputFormatException(source, lines.LineNumber, "sequence before the first '>' header");
            else records[^1].Raw.Append(line);
        }
        foreach (var r in records.Where(r => r.Raw.Length == 0))
            throw new InputFormatException(source, r.Line, r.Name, null, "record has no sequence");
        return records;
    }

    /// <summary>Stockholm: "name sequence" lines, blocks concatenated per name; "#" annotations skipped; "//" ends.</summary>
    private static List<Record> ReadStockholm(LineSource lines, string source)
    {
        var records = new List<Record>();
        var byName = new Dictionary<string, Record>(StringComparer.Ordinal);
        while (!lines.AtEnd)
        {
            string line = lines.Read().Trim();
            if (line == "//") break;
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var tokens = LineSource.Tokens(line);
            if (tokens.Length != 2) throw new InputFormatException(source, lines.LineNumber, $"expected 'name sequence', found {tokens.Length} fields");
            if (!byName.TryGetValue(tokens[0], out var record))
            {
                record = new Record(tokens[0], lines.LineNumber, new StringBuilder());
                byName.Add(tokens[0], record);
                records.Add(record);
            }
            record.Raw.Append(tokens[1]);
        }
        return records;
    }
}
