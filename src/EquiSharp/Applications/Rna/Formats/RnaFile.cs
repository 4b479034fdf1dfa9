using EquiSharp.IO;
using System.IO.Compression;
using System.Text;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>
/// Entry point for reading and writing RNA secondary-structure files. Formats are detected from the content
/// (never the extension) and gzip input is recognised by its magic bytes.
/// </summary>
public static class RnaFile
{
    /// <summary>Reads every record of a plain or gzip file.</summary>
    /// <exception cref="RnaFormatException">Unrecognised format, malformed lines or inconsistent pairings.</exception>
    public static RnaReadResult Read(string path, RnaReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ReadSource(LineSource.FromFile(path), path, options);
    }

    /// <summary>Reads records from text already in memory; <paramref name="sourceName"/> is used in messages.</summary>
    public static RnaReadResult Parse(string text, string sourceName = "<text>", RnaReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ReadSource(LineSource.FromText(text), sourceName, options);
    }

    /// <summary>
    /// Reads every regular file directly in <paramref name="directory"/> (ordinal name order). Files that cannot be
    /// parsed are reported in <see cref="RnaDirectoryReadResult.Skipped"/> with the reason instead of failing the call.
    /// </summary>
    public static RnaDirectoryReadResult ReadDirectory(string directory, RnaReadOptions? options = null)
    {
        var files = new List<RnaReadResult>();
        var skipped = new List<SkippedFile>();
        foreach (string path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            try
            {
                files.Add(Read(path, options));
            }
            catch (Exception e) when (e is RnaFormatException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                skipped.Add(new SkippedFile(path, e.Message));
            }
        }
        return new RnaDirectoryReadResult(files, skipped);
    }

    /// <summary>Detects the format of a file's content, or returns null if it matches none.</summary>
    public static RnaFileFormat? DetectFormat(string path) => Detect(LineSource.FromFile(path));

    /// <summary>
    /// Writes records to <paramref name="path"/> via a temporary file and a rename, so readers never see a partial
    /// file. The output is gzip-compressed when the path ends in ".gz".
    /// </summary>
    public static void Write(string path, IEnumerable<RnaStructure> records, RnaFileFormat format)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (Stream file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (Stream body = full.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Optimal) : file)
            using (var writer = new StreamWriter(body, new UTF8Encoding(false)) { NewLine = "\n" })
                Write(writer, records, format);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes records in the given format to a text writer.</summary>
    public static void Write(TextWriter writer, IEnumerable<RnaStructure> records, RnaFileFormat format)
    {
        if (format == RnaFileFormat.Csv) CsvFormat.WriteHeader(writer);
        foreach (var s in records)
        {
            switch (format)
            {
                case RnaFileFormat.Ct: CtFormat.Write(writer, s); break;
                case RnaFileFormat.Bpseq: BpseqFormat.Write(writer, s); break;
                case RnaFileFormat.DotBracketFasta: DotBracketFastaFormat.Write(writer, s); break;
                case RnaFileFormat.Csv: CsvFormat.Write(writer, s); break;
                case RnaFileFormat.FiveLine: FiveLineFormat.Write(writer, s); break;
                default: throw new ArgumentOutOfRangeException(nameof(format));
            }
        }
    }

    /// <summary>Renders records in the given format as a string.</summary>
    public static string ToText(IEnumerable<RnaStructure> records, RnaFileFormat format)
    {
        var w = new StringWriter { NewLine = "\n" };
        Write(w, records, format);
        return w.ToString();
    }

    /// <summary>Names must stay on one line in every format.</summary>
    internal static string OneLine(string name) => name.ReplaceLineEndings(" ");

    private static RnaReadResult ReadSource(LineSource src, string name, RnaReadOptions? options)
    {
        options ??= new RnaReadOptions();
        var format = options.Format ?? Detect(src)
            ?? throw new RnaFormatException(name, null, null, null, "unrecognised format (expected CT, BPSEQ, dot-bracket FASTA, CSV or five-line records)");
        var ctx = new ReadContext(name, options);
        List<RnaStructure> records = format switch
        {
            RnaFileFormat.Ct => CtFormat.Read(src, ctx),
            RnaFileFormat.Bpseq => BpseqFormat.Read(src, ctx),
            RnaFileFormat.DotBracketFasta => DotBracketFastaFormat.Read(src, ctx),
            RnaFileFormat.Csv => CsvFormat.Read(src, ctx),
            RnaFileFormat.FiveLine => FiveLineFormat.Read(src, ctx),
            _ => throw new ArgumentOutOfRangeException(nameof(options)),
        };
        var warnings = new List<string>();
        if (ctx.UnknownLetters > 0)
            warnings.Add($"{name}: {ctx.UnknownLetters} unknown letter(s) in {ctx.RecordsWithUnknown} record(s) mapped to N");
        return new RnaReadResult(name, format, records, ctx.UnknownLetters, warnings);
    }

    /// <summary>Content-based detection; checks the most specific shapes first.</summary>
    private static RnaFileFormat? Detect(LineSource src)
    {
        int first = src.NextNonBlank(0);
        if (first < 0) return null;
        string line = src[first].TrimStart();
        if (line.StartsWith('>')) return RnaFileFormat.DotBracketFasta;
        if (CsvFormat.IsHeader(line)) return RnaFileFormat.Csv;
        if (FiveLineFormat.Matches(src, first)) return RnaFileFormat.FiveLine;
        // CT and BPSEQ may start with free-text headers: look for the first data line of position 1.
        for (int i = first; i < src.Count; i++)
        {
            if (CtFormat.IsDataLine(src[i], 1)) return RnaFileFormat.Ct;
            if (BpseqFormat.IsDataLine(src[i], out int index) && index == 1) return RnaFileFormat.Bpseq;
        }
        return null;
    }
}
