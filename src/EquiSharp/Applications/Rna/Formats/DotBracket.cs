using System.Text;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>
/// Dot-bracket notation with pseudoknots: levels use (), [], {}, &lt;&gt;, then Aa, Bb, … Zz (upper case opens).
/// '.' is unpaired; '-', ',', ':', '_' and '~' are also read as unpaired.
/// </summary>
public static class DotBracket
{
    private const string Openers = "([{<";
    private const string Closers = ")]}>";

    /// <summary>Maximum number of pseudoknot levels that can be written (4 bracket kinds + 26 letters).</summary>
    public const int MaxLevels = 30;

    /// <summary>Parses a structure string into 0-based partners (-1 = unpaired).</summary>
    /// <exception cref="RnaFormatException">Unbalanced brackets or an unexpected character.</exception>
    public static int[] Parse(string structure) =>
        Parse(structure, new ReadContext("<dot-bracket>", new RnaReadOptions()), null, _ => 1);

    /// <summary>Renders partners as dot-bracket, splitting crossing pairs into levels greedily (see <see cref="AssignLevels"/>).</summary>
    /// <exception cref="ArgumentException">Inconsistent partners.</exception>
    /// <exception cref="InvalidOperationException">More than <see cref="MaxLevels"/> levels would be needed.</exception>
    public static string Format(int[] partners)
    {
        ArgumentNullException.ThrowIfNull(partners);
        if (PairCheck.FindError(partners, out int pos) is string error)
            throw new ArgumentException($"Invalid pairing at position {pos + 1}: {error}", nameof(partners));
        int[] levels = AssignLevels(partners);
        var chars = new char[partners.Length];
        for (int i = 0; i < partners.Length; i++)
        {
            int p = partners[i];
            if (p < 0) { chars[i] = '.'; continue; }
            int level = levels[i];
            if (level >= MaxLevels)
                throw new InvalidOperationException($"The structure needs more than {MaxLevels} bracket levels.");
            (char open, char close) = level < 4 ? (Openers[level], Closers[level]) : ((char)('A' + level - 4), (char)('a' + level - 4));
            chars[i] = p > i ? open : close;
        }
        return new string(chars);
    }

    /// <summary>
    /// Assigns each pair a level so that pairs within a level never cross: pairs are taken in order of their
    /// opening position and each goes into the first level where it crosses nothing. Returns the level per
    /// position (both ends of a pair share it), -1 for unpaired positions.
    /// </summary>
    public static int[] AssignLevels(int[] partners)
    {
        var levels = new int[partners.Length];
        Array.Fill(levels, -1);
        // Per level, a stack of the closing positions of pairs still open: nested pairs make it sorted.
        var open = new List<Stack<int>>();
        for (int i = 0; i < partners.Length; i++)
        {
            int j = partners[i];
            if (j <= i) continue;
            int level = 0;
            for (; level < open.Count; level++)
            {
                var stack = open[level];
                while (stack.Count > 0 && stack.Peek() < i) stack.Pop();
                // Every pair left on the stack encloses i; (i, j) is nested iff it closes before the innermost one.
                if (stack.Count == 0 || j < stack.Peek()) break;
            }
            if (level == open.Count) open.Add(new Stack<int>());
            open[level].Push(j);
            levels[i] = levels[j] = level;
        }
        return levels;
    }

    /// <summary>
    /// <paramref name="partners"/> with the pairs that <see cref="AssignLevels"/> puts on level <paramref name="level"/> or
    /// above made unpaired: level 1 keeps the nested structure of level 0 (what '(' and ')' write) and drops every
    /// pseudoknot level.
    /// </summary>
    public static int[] PairsBelowLevel(int[] partners, int level)
    {
        var levels = AssignLevels(partners);
        return partners.Select((p, i) => p >= 0 && levels[i] >= level ? -1 : p).ToArray();
    }

    /// <summary>Whether <paramref name="c"/> may appear in a dot-bracket structure.</summary>
    internal static bool IsStructureChar(char c) =>
        IsUnpaired(c) || Openers.Contains(c) || Closers.Contains(c) || c is >= 'A' and <= 'Z' or >= 'a' and <= 'z';

    private static bool IsUnpaired(char c) => c is '.' or '-' or ',' or ':' or '_' or '~';

    /// <summary>Parses with file context; <paramref name="lineOf"/> maps a 0-based position to its line.</summary>
    internal static int[] Parse(string structure, ReadContext ctx, string? record, Func<int, int> lineOf)
    {
        var partners = new int[structure.Length];
        Array.Fill(partners, -1);
        var stacks = new Stack<int>[MaxLevels];
        for (int i = 0; i < structure.Length; i++)
        {
            char c = structure[i];
            if (IsUnpaired(c)) continue;
            int kind = Openers.IndexOf(c);
            bool opens = kind >= 0;
            if (!opens) kind = Closers.IndexOf(c);
            if (kind < 0 && c is >= 'A' and <= 'Z') { kind = 4 + c - 'A'; opens = true; }
            if (kind < 0 && c is >= 'a' and <= 'z') kind = 4 + c - 'a';
            if (kind < 0) throw ctx.Error(lineOf(i), record, i + 1, $"unexpected structure character '{c}'");
            var stack = stacks[kind] ??= new Stack<int>();
            if (opens) { stack.Push(i); continue; }
            if (stack.Count == 0) throw ctx.Error(lineOf(i), record, i + 1, $"unbalanced brackets: '{c}' closes nothing");
            int o = stack.Pop();
            partners[o] = i;
            partners[i] = o;
        }
        // Report the leftmost opener that was never closed.
        int unclosed = stacks.Where(s => s is { Count: > 0 }).Select(s => s.Min()).DefaultIfEmpty(-1).Min();
        if (unclosed >= 0)
            throw ctx.Error(lineOf(unclosed), record, unclosed + 1, $"unbalanced brackets: '{structure[unclosed]}' is never closed");
        return partners;
    }
}
