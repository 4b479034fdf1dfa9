using System.IO.Compression;
using System.Text;

namespace EquiSharp.IO;

/// <summary>All lines of one input with a cursor; line numbers are 1-based. Shared by every text reader (RNA, protein).</summary>
internal sealed class LineSource
{
    private readonly string[] _lines;

    public LineSource(string[] lines) => _lines = lines;

    /// <summary>Index of the next line to read (0-based).</summary>
    public int Next { get; set; }

    public int Count => _lines.Length;

    public bool AtEnd => Next >= _lines.Length;

    /// <summary>1-based number of the line most recently returned by <see cref="Read"/>.</summary>
    public int LineNumber => Next;

    public string this[int index] => _lines[index];

    /// <summary>Returns the next line and advances.</summary>
    public string Read() => _lines[Next++];

    /// <summary>Advances past blank lines; returns false at the end of input.</summary>
    public bool SkipBlank()
    {
        while (Next < _lines.Length && string.IsNullOrWhiteSpace(_lines[Next])) Next++;
        return Next < _lines.Length;
    }

    /// <summary>Index of the first non-blank line at or after <paramref name="from"/>, or -1.</summary>
    public int NextNonBlank(int from)
    {
        for (int i = from; i < _lines.Length; i++)
            if (!string.IsNullOrWhiteSpace(_lines[i])) return i;
        return -1;
    }

    public static LineSource FromText(string text) =>
        new(text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));

    /// <summary>Reads a plain or gzip file; gzip is recognised by its magic bytes, not by the extension.</summary>
    public static LineSource FromFile(string path)
    {
        using var stream = OpenMaybeGzip(path);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return FromText(reader.ReadToEnd());
    }

    public static Stream OpenMaybeGzip(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    /// <summary>Splits on spaces and tabs, dropping empty tokens.</summary>
    public static string[] Tokens(string line) =>
        line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
}
