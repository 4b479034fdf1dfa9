using System.Globalization;
using System.Text;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Inference;
using EquiSharp.Metrics;

namespace EquiSharp.Applications.Rna.Evaluation;

/// <summary>A range of sequence lengths [<paramref name="From"/>, <paramref name="To"/>) in nucleotides.</summary>
public sealed record LengthBin(string Name, int From, int To)
{
    public bool Contains(int length) => length >= From && length < To;
}

/// <summary>
/// One row of <see cref="RnaScoreTable"/>: the records of a length bin, scored on all pairs or on nested pairs only,
/// as mean per-sequence scores of the model and of the all-unpaired baseline (both null when the bin is empty).
/// </summary>
public sealed record RnaScoreRow(string Bin, string Pairs, int Count, PairScoreSummary? Model, PairScoreSummary? Unpaired);

/// <summary>
/// The evaluation table of <c>rna eval</c>: mean per-sequence PPV, sensitivity, F1 and MCC (<see cref="PairMetrics"/>)
/// overall and by length bin, each on all pairs and on nested pairs only, next to the trivial all-unpaired baseline.
/// </summary>
/// <remarks>
/// Nested pairs: the pairs the dot-bracket writer puts on level 0 (<see cref="DotBracket.AssignLevels"/>: pairs in
/// order of their opening base, each on the first level where it crosses nothing), taken in the true and the
/// predicted structure alike (<see cref="DotBracket.PairsBelowLevel"/> with level 1); pairs on pseudoknot levels are
/// dropped from both. The all-unpaired baseline predicts no pair, so its F1 is 0 on every record with a true pair
/// (1 on records without any, by <see cref="PairScores"/>' conventions).
/// </remarks>
public static class RnaScoreTable
{
    /// <summary>The length bins: &lt; 100, 100–200, 200–500 and ≥ 500 nt, each from its lower bound up to (not including) the next.</summary>
    public static readonly IReadOnlyList<LengthBin> Bins = new LengthBin[]
    {
        new("<100", 0, 100), new("100-200", 100, 200), new("200-500", 200, 500), new(">=500", 500, int.MaxValue),
    };

    /// <summary>The rule of the nested rows, as printed with the table.</summary>
    public const string NestedRule = "nested = the pairs the dot-bracket writer puts on level 0 (pairs by opening base, each on the first level it crosses nothing on), "
        + "in the true and the predicted structure alike; pseudoknot-level pairs are dropped from both";

    /// <summary>Rows for all records, then for each bin; within each, all pairs then nested pairs.</summary>
    public static List<RnaScoreRow> Rows(IReadOnlyList<RnaPrediction> predictions)
    {
        // each record's (truth, prediction) on all pairs and on nested pairs, computed once for every row it enters
        var scored = predictions.Select(p => (Length: p.Record.Length,
            All: (Truth: p.Record.Partners, Predicted: p.Predicted),
            Nested: (Truth: DotBracket.PairsBelowLevel(p.Record.Partners, 1), Predicted: DotBracket.PairsBelowLevel(p.Predicted, 1)))).ToList();
        var rows = new List<RnaScoreRow>();
        foreach (var (name, members) in new[] { ("all", scored) }.Concat(Bins.Select(b => (b.Name, scored.Where(r => b.Contains(r.Length)).ToList()))))
        {
            rows.Add(Row(name, "all", members.Select(r => r.All).ToList()));
            rows.Add(Row(name, "nested", members.Select(r => r.Nested).ToList()));
        }
        return rows;
    }

    private static RnaScoreRow Row(string bin, string pairs, IReadOnlyList<(int[] Truth, int[] Predicted)> members)
    {
        if (members.Count == 0) return new RnaScoreRow(bin, pairs, 0, null, null);
        var model = PairMetrics.Average(members.Select(m => PairMetrics.Compute(m.Predicted, m.Truth)));
        var unpaired = PairMetrics.Average(members.Select(m => PairMetrics.Compute(Enumerable.Repeat(-1, m.Truth.Length).ToArray(), m.Truth)));
        return new RnaScoreRow(bin, pairs, members.Count, model, unpaired);
    }

    /// <summary>
    /// The table as text: a '#' line stating the rules, a header and one whitespace-separated row per
    /// <see cref="RnaScoreRow"/> (4 decimals, invariant culture; '-' for an empty bin).
    /// </summary>
    public static string Format(IEnumerable<RnaScoreRow> rows)
    {
        var sb = new StringBuilder();
        sb.Append("# mean per sequence, overall and by length (nt); ").Append(NestedRule).Append("; unpaired_* = the all-unpaired baseline\n");
        sb.Append($"{"length",-8} {"pairs",-6} {"n",6} {"ppv",7} {"sen",7} {"f1",7} {"mcc",7} {"unpaired_ppv",12} {"unpaired_sen",12} {"unpaired_f1",12} {"unpaired_mcc",12}\n");
        foreach (var r in rows)
        {
            sb.Append($"{r.Bin,-8} {r.Pairs,-6} {r.Count,6}");
            foreach (var (s, width) in new[] { (r.Model, 7), (r.Unpaired, 12) })
                foreach (double? v in new[] { s?.Ppv, s?.Sensitivity, s?.F1, s?.Mcc })
                    sb.Append(' ').Append((v is double x ? x.ToString("0.0000", CultureInfo.InvariantCulture) : "-").PadLeft(width));
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
