using EquiSharp.IO;
using EquiSharp.Applications.Rna.Formats;

namespace EquiSharp.Applications.Rna.Inference;

/// <summary>A sequence to predict, with its true structure when the input file had one.</summary>
public sealed record RnaQuery(string Name, string Sequence, RnaStructure? Truth);

/// <summary>Inputs of <c>rna predict</c>: a structure file in any supported format (truth known) or plain FASTA (sequences only).</summary>
public static class RnaQueries
{
    /// <summary>One sequence given on the command line.</summary>
    public static RnaQuery FromSequence(string text, string name = "seq")
    {
        string raw = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        if (raw.Length == 0) throw new ArgumentException("--seq: empty sequence.");
        return new RnaQuery(name, RnaStructure.NormalizeSequence(raw, out _), null);
    }

    /// <summary>
    /// Reads a file: first as a structure file (CT, BPSEQ, dot-bracket FASTA, CSV, five-line; plain or gzip); if that
    /// fails and the file looks like FASTA, as plain FASTA with sequences only (wrapped lines allowed).
    /// </summary>
    public static List<RnaQuery> FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        try
        {
            return RnaFile.Read(path).Records.Select(r => new RnaQuery(r.Name, r.Sequence, r)).ToList();
        }
        catch (RnaFormatException structureError)
        {
            var src = LineSource.FromFile(path);
            int first = src.NextNonBlank(0);
            if (first < 0 || !src[first].TrimStart().StartsWith('>')) throw;
            var result = new List<RnaQuery>();
            string? name = null;
            var seq = new System.Text.StringBuilder();
            int headerLine = 0;
            void Flush()
            {
                if (name is null) return;
                if (seq.Length == 0) throw new RnaFormatException(path, headerLine, name, null, "record has no sequence");
                foreach (char c in seq.ToString())
                    if (!char.IsLetter(c))
                        throw new RnaFormatException(path, headerLine, name, null,
                            $"'{c}' is not a nucleotide letter (and as a dot-bracket file: {structureError.Problem})");
                result.Add(new RnaQuery(name, RnaStructure.NormalizeSequence(seq.ToString(), out _), null));
            }
            for (int i = first; i < src.Count; i++)
            {
                string line = src[i].Trim();
                if (line.Length == 0) continue;
                if (line.StartsWith('>'))
                {
                    Flush();
                    name = line[1..].Trim() is { Length: > 0 } n ? n : $"seq{result.Count + 1}";
                    seq.Clear();
                    headerLine = i + 1;
                }
                else seq.Append(string.Concat(line.Where(c => !char.IsWhiteSpace(c))));
            }
            Flush();
            return result;
        }
    }
}

/// <summary>Dot-bracket output for predictions, which (untrained or poor models) may cross more than the notation can express.</summary>
public static class PredictionDotBracket
{
    /// <summary>
    /// Dot-bracket of <paramref name="partners"/>; pairs on pseudoknot levels beyond <see cref="DotBracket.MaxLevels"/>
    /// are shown as unpaired and counted in <paramref name="dropped"/> (CT output keeps every pair).
    /// </summary>
    public static string Format(int[] partners, out int dropped)
    {
        var kept = DotBracket.PairsBelowLevel(partners, DotBracket.MaxLevels);
        dropped = kept.Zip(partners).Count(t => t.First != t.Second) / 2;
        return DotBracket.Format(kept);
    }
}
