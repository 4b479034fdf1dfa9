using EquiSharp.IO;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>Per-file state while reading: the file name for messages and the unknown-letter tally.</summary>
internal sealed class ReadContext(string fileName, RnaReadOptions options)
{
    public string FileName { get; } = fileName;
    public RnaReadOptions Options { get; } = options;
    public int UnknownLetters { get; private set; }
    public int RecordsWithUnknown { get; private set; }
    public int RecordCount { get; set; }

    /// <summary>Normalises a raw sequence and tallies unknown letters.</summary>
    public string Sequence(ReadOnlySpan<char> raw)
    {
        string seq = RnaStructure.NormalizeSequence(raw, out int unknown);
        AddUnknown(unknown);
        return seq;
    }

    /// <summary>The base letter of a CT/BPSEQ base column; a multi-letter token becomes an unknown symbol.</summary>
    public static char BaseChar(string token) => token.Length == 1 ? token[0] : '?';

    public void AddUnknown(int count)
    {
        if (count == 0) return;
        UnknownLetters += count;
        RecordsWithUnknown++;
    }

    /// <summary>Fallback record name: file stem plus a 1-based record number.</summary>
    public string DefaultName() =>
        $"{Path.GetFileNameWithoutExtension(FileName.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? FileName[..^3] : FileName)}#{RecordCount + 1}";

    public RnaFormatException Error(int? line, string? record, int? position, string problem) =>
        new(FileName, line, record, position, problem);

    public int ParseInt(string token, int line, string? record, int? position)
    {
        if (int.TryParse(token, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int v))
            return v;
        throw Error(line, record, position, $"'{token}' is not an integer");
    }

    public RnaStructure Build(string name, string sequence, int[] partners)
    {
        RecordCount++;
        return new RnaStructure(name, sequence, partners);
    }
}
