namespace EquiSharp.Rna.Formats;

/// <summary>
/// Thrown when an RNA structure file is malformed or its pairing is inconsistent.
/// The message always names the file and, when known, the 1-based line, the record and the 1-based position.
/// </summary>
public sealed class RnaFormatException : Exception
{
    /// <summary>Creates the exception and composes a message from the location parts.</summary>
    public RnaFormatException(string file, int? line, string? record, int? position, string problem, Exception? inner = null)
        : base(Compose(file, line, record, position, problem), inner)
    {
        FileName = file;
        LineNumber = line;
        RecordName = record;
        Position = position;
        Problem = problem;
    }

    /// <summary>File (or source) name.</summary>
    public string FileName { get; }

    /// <summary>1-based line number, if known.</summary>
    public int? LineNumber { get; }

    /// <summary>Record name, if known.</summary>
    public string? RecordName { get; }

    /// <summary>1-based position in the sequence, if the problem concerns one.</summary>
    public int? Position { get; }

    /// <summary>The problem without the location prefix.</summary>
    public string Problem { get; }

    private static string Compose(string file, int? line, string? record, int? position, string problem)
    {
        var parts = new List<string> { file };
        if (line is int l) parts.Add($"line {l}");
        if (record is not null) parts.Add($"record '{record}'");
        if (position is int p) parts.Add($"position {p}");
        return string.Join(", ", parts) + ": " + problem;
    }
}
