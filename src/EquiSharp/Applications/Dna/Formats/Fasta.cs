using EquiSharp.IO;

namespace EquiSharp.Applications.Dna.Formats;

/// <summary>One FASTA record: its id (first word of the header) and the sequence in upper case.</summary>
public sealed record FastaRecord(string Id, string Sequence, int HeaderLine);

/// <summary>
/// FASTA reading and writing for DNA. Records may span several lines, letters may be lower case (soft-masked
/// repeats), and N (or n) marks an unknown base; any other letter is an error naming file, line and letter.
/// Encoding for the models (<see cref="Encode"/>): A, C, G, T → 0..3 and N → 4, which becomes an all-zero one-hot
/// column (no evidence for any base; its reverse complement is again N, so RC invariance is kept).
/// </summary>
public static class Fasta
{
    public const byte Unknown = 4;

    public static IReadOnlyList<FastaRecord> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: FASTA file not found.");
        using var stream = LineSource.OpenMaybeGzip(path);
        using var reader = new StreamReader(stream);
        var records = new List<FastaRecord>();
        var ids = new Dictionary<string, int>();
        string? id = null;
        int header = 0;
        var sequence = new System.Text.StringBuilder();
        void Flush()
        {
            if (id is null) return;
            if (sequence.Length == 0) throw new InvalidDataException($"{path}:{header}: record '{id}' has no sequence.");
            records.Add(new FastaRecord(id, sequence.ToString(), header));
            sequence.Clear();
        }
        int lineNumber = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line[0] == '>')
            {
                Flush();
                var words = line[1..].Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (words.Length == 0) throw new InvalidDataException($"{path}:{lineNumber}: a FASTA header without an id.");
                id = words[0];
                header = lineNumber;
                if (ids.TryGetValue(id, out int first)) throw new InvalidDataException($"{path}:{lineNumber}: id '{id}' is repeated (first at line {first}).");
                ids[id] = lineNumber;
                continue;
            }
            if (id is null) throw new InvalidDataException($"{path}:{lineNumber}: sequence text before the first '>' header.");
            for (int c = 0; c < line.Length; c++)
            {
                char u = char.ToUpperInvariant(line[c]);
                if (u is not ('A' or 'C' or 'G' or 'T' or 'N'))
                    throw new InvalidDataException($"{path}:{lineNumber}: record '{id}' has the letter '{line[c]}' at column {c + 1} (expected A, C, G, T or N, any case).");
                sequence.Append(u);
            }
        }
        Flush();
        if (records.Count == 0) throw new InvalidDataException($"{path}: no FASTA records.");
        return records;
    }

    public static void Write(string path, IEnumerable<(string Id, string Sequence)> records, int lineWidth = 80)
    {
        using var w = new StreamWriter(path);
        foreach (var (id, seq) in records)
        {
            w.Write('>'); w.Write(id); w.Write('\n');
            for (int i = 0; i < seq.Length; i += lineWidth) { w.Write(seq.AsSpan(i, Math.Min(lineWidth, seq.Length - i))); w.Write('\n'); }
        }
    }

    /// <summary>Base codes: A, C, G, T → 0, 1, 2, 3 (complement = 3 − code), N → 4.</summary>
    public static byte[] Encode(string sequence) =>
        sequence.Select(c => c switch { 'A' => (byte)0, 'C' => (byte)1, 'G' => (byte)2, 'T' => (byte)3, _ => Unknown }).ToArray();

    /// <summary>The reverse complement of an upper-case sequence (N stays N).</summary>
    public static string ReverseComplement(string sequence) =>
        new(sequence.Reverse().Select(c => c switch { 'A' => 'T', 'C' => 'G', 'G' => 'C', 'T' => 'A', _ => c }).ToArray());
}
