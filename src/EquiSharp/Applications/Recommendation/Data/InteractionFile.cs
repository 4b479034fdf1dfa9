using System.Globalization;
using System.Text;
using EquiSharp.IO;

namespace EquiSharp.Applications.Recommendation.Data;

/// <summary>The text layouts of user–item interaction files.</summary>
public enum InteractionFormat
{
    /// <summary>MovieLens 1M/10M <c>ratings.dat</c>: <c>user::item::rating::timestamp</c>.</summary>
    MovieLens1M,
    /// <summary>MovieLens 100K <c>u.data</c>: <c>user item rating timestamp</c>, tab-separated.</summary>
    MovieLens100K,
    /// <summary>Caser/CosRec text: <c>user item rating</c> per line, already in time order (no timestamp).</summary>
    Caser,
}

/// <summary>One interaction as read: original ids, its time (the line order for formats without one) and its 1-based line.</summary>
public readonly record struct RawInteraction(string User, string Item, long Timestamp, int Line);

/// <summary>Every interaction of one file, in file order.</summary>
public sealed record InteractionFile(string Source, InteractionFormat Format, IReadOnlyList<RawInteraction> Interactions);

/// <summary>
/// Readers of MovieLens <c>ratings.dat</c>, <c>u.data</c> and the Caser/CosRec format, plain or gzip (recognised by its
/// magic bytes). Blank lines are skipped; a malformed line stops the read with a <see cref="InputFormatException"/> naming
/// the file, the line and the problem. Ratings are checked to be numbers and then ignored: every rating is an implicit
/// interaction.
/// </summary>
public static class InteractionReader
{
    /// <summary>Parses a format name as the CLI spells it: ml1m, ml100k or caser.</summary>
    public static InteractionFormat ParseFormat(string name) => name.ToLowerInvariant() switch
    {
        "ml1m" or "ratings.dat" => InteractionFormat.MovieLens1M,
        "ml100k" or "u.data" => InteractionFormat.MovieLens100K,
        "caser" or "cosrec" => InteractionFormat.Caser,
        _ => throw new ArgumentException($"--format {name}: expected ml1m (user::item::rating::timestamp), ml100k (tab-separated u.data) or caser (user item rating)."),
    };

    /// <summary>Reads a plain or gzip file.</summary>
    public static InteractionFile Read(string path, InteractionFormat format)
    {
        using var stream = LineSource.OpenMaybeGzip(path);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Read(reader, path, format);
    }

    /// <summary>Reads text already in memory; <paramref name="sourceName"/> is used in messages.</summary>
    public static InteractionFile Parse(string text, InteractionFormat format, string sourceName = "<text>") =>
        Read(new StringReader(text), sourceName, format);

    private static InteractionFile Read(TextReader reader, string source, InteractionFormat format)
    {
        var result = new List<RawInteraction>();
        int lineNumber = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            result.Add(ParseLine(line, format, source, lineNumber, result.Count));
        }
        return new InteractionFile(source, format, result);
    }

    private static RawInteraction ParseLine(string line, InteractionFormat format, string source, int lineNumber, long order)
    {
        string[] fields = format == InteractionFormat.MovieLens1M
            ? line.Trim().Split("::")
            : LineSource.Tokens(line);
        int expected = format == InteractionFormat.Caser ? 3 : 4;
        if (fields.Length != expected)
            throw new InputFormatException(source, lineNumber, format switch
            {
                InteractionFormat.MovieLens1M => $"expected 4 fields user::item::rating::timestamp, found {fields.Length}",
                InteractionFormat.MovieLens100K => $"expected 4 tab-separated fields (user item rating timestamp), found {fields.Length}",
                _ => $"expected 3 fields (user item rating), found {fields.Length}",
            });
        string user = fields[0].Trim(), item = fields[1].Trim();
        if (user.Length == 0) throw new InputFormatException(source, lineNumber, "empty user id");
        if (item.Length == 0) throw new InputFormatException(source, lineNumber, "empty item id");
        if (!double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            throw new InputFormatException(source, lineNumber, $"rating '{fields[2]}' is not a number");
        long time = order; // the Caser format is already in time order: the line order is the clock
        if (expected == 4 && !long.TryParse(fields[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out time))
            throw new InputFormatException(source, lineNumber, $"timestamp '{fields[3]}' is not an integer");
        return new RawInteraction(user, item, time, lineNumber);
    }
}
