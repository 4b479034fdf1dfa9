namespace EquiSharp.IO;

/// <summary>
/// Thrown when an input file is malformed. The message always names the file and, when known, the 1-based line,
/// the record and the 1-based position, then the problem: "file, line 12, record 'x', position 3: problem".
/// </summary>
public class InputFormatException : Exception
{
    /// <summary>Creates the exception and composes a message from the location parts.</summary>
    public InputFormatException(string file, int? line, string? record, int? position, string problem, Exception? inner = null)
        : base(Compose(file, line, record, position, problem), inner)
    {
        FileName = file;
        LineNumber = line;
        RecordName = record;
        Position = position;
        Problem = problem;
    }

    /// <summary>A problem at one line of a file (no record or position).</summary>
    public InputFormatException(string file, int? line, string problem) : this(file, line, null, null, problem) { }

    /// <summary>File (or source) name.</summary>
    public string FileName { get; }

    /// <summary>1-based line number, if known.</summary>
    public int? LineNumber { get; }

    /// <summary>Record name, if known.</summary>
    public string? RecordName { get; }

    /// <summary>1-based position in the record, if the problem concerns one.</summary>
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
