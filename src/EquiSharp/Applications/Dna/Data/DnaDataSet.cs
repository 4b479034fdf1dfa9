using EquiSharp.Applications.Dna.Formats;
using EquiSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Dna.Data;

/// <summary>
/// Sequences of one fixed length with binary labels for one or more tasks and a train / valid / test split. Bases are
/// kept as codes (N, L) (A, C, G, T = 0..3, N = 4) and one-hot encoded per batch: (B, 4, L) in ACGT order, an N
/// column all zero.
/// </summary>
public sealed class DnaDataSet
{
    /// <summary>Split codes.</summary>
    public const int Train = 0, Valid = 1, Test = 2;
    /// <summary>The paper's random allocation (§3.2): 40% train, 30% validation, 30% test.</summary>
    public static readonly double[] DefaultFractions = { 0.4, 0.3, 0.3 };

    public string[] Ids { get; }
    public string[] TaskNames { get; }
    public int SequenceLength { get; }
    /// <summary>Base codes (N, L), uint8, on the CPU.</summary>
    public Tensor Codes { get; }
    /// <summary>Labels (N, tasks), float32 0/1, on the CPU.</summary>
    public Tensor Labels { get; }
    public int[] Split { get; }

    private DnaDataSet(string[] ids, string[] tasks, int length, Tensor codes, Tensor labels, int[] split)
    {
        Ids = ids; TaskNames = tasks; SequenceLength = length; Codes = codes; Labels = labels; Split = split;
    }

    public int Count => Ids.Length;

    /// <summary>Indices of one split, in file order.</summary>
    public long[] Indices(int split) => Enumerable.Range(0, Count).Where(i => Split[i] == split).Select(i => (long)i).ToArray();

    /// <summary>A simulation directory: sequences.fa and labels.tsv.</summary>
    public static DnaDataSet LoadDirectory(string dir, int seed)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: data directory not found.");
        return Load(Path.Combine(dir, "sequences.fa"), Path.Combine(dir, "labels.tsv"), seed);
    }

    /// <summary>
    /// FASTA + labels TSV. Every labelled id must have a sequence and vice versa; all sequences must have one length.
    /// Without a split column the sequences are split 40/30/30 at random by <paramref name="seed"/>.
    /// </summary>
    public static DnaDataSet Load(string fastaPath, string labelsPath, int seed)
    {
        var records = Fasta.Read(fastaPath);
        var table = LabelTable.Read(labelsPath);
        var byId = records.ToDictionary(r => r.Id);
        foreach (var row in table.Rows)
            if (!byId.ContainsKey(row.Id))
                throw new InvalidDataException($"{labelsPath}:{row.Line}: id '{row.Id}' has no sequence in {fastaPath}.");
        var labelled = table.Rows.Select(r => r.Id).ToHashSet();
        var unlabelled = records.FirstOrDefault(r => !labelled.Contains(r.Id));
        if (unlabelled is not null)
            throw new InvalidDataException($"{fastaPath}:{unlabelled.HeaderLine}: sequence '{unlabelled.Id}' has no row in {labelsPath}.");
        int length = byId[table.Rows[0].Id].Sequence.Length;
        foreach (var row in table.Rows)
        {
            var r = byId[row.Id];
            if (r.Sequence.Length != length)
                throw new InvalidDataException($"{fastaPath}:{r.HeaderLine}: sequence '{r.Id}' has length {r.Sequence.Length}, the first ('{table.Rows[0].Id}') has {length}; the models need one fixed length.");
        }
        int n = table.Rows.Count, tasks = table.TaskNames.Length;
        var codes = new byte[n * (long)length];
        var labels = new float[n * tasks];
        for (int i = 0; i < n; i++)
        {
            Fasta.Encode(byId[table.Rows[i].Id].Sequence).CopyTo(codes, i * (long)length);
            for (int t = 0; t < tasks; t++) labels[i * tasks + t] = table.Rows[i].Labels[t] ? 1 : 0;
        }
        var split = table.HasSplit
            ? table.Rows.Select(r => Array.IndexOf(LabelTable.SplitNames, r.Split)).ToArray()
            : RandomSplit(n, seed);
        return new DnaDataSet(table.Rows.Select(r => r.Id).ToArray(), table.TaskNames, length,
            torch.tensor(codes, new long[] { n, length }, dtype: ScalarType.Byte), torch.tensor(labels, new long[] { n, tasks }), split);
    }

    /// <summary>A seeded random 40/30/30 split (split code per item).</summary>
    public static int[] RandomSplit(int n, int seed)
    {
        var order = Enumerable.Range(0, n).ToArray();
        new Random(Seeds.Derive(seed, Seeds.DevSplitStream, 0)).Shuffle(order);
        int train = (int)Math.Round(n * DefaultFractions[0]), valid = (int)Math.Round(n * DefaultFractions[1]);
        var split = new int[n];
        for (int k = 0; k < n; k++) split[order[k]] = k < train ? Train : k < train + valid ? Valid : Test;
        return split;
    }

    /// <summary>One-hot (B, 4, L) float32 on <paramref name="device"/>; N positions are all zero.</summary>
    public Tensor OneHot(long[] indices, Device device) => OneHotOf(Codes.index_select(0, torch.tensor(indices)), device);

    /// <summary>One-hot of a (B, L) code tensor.</summary>
    public static Tensor OneHotOf(Tensor codes, Device device)
    {
        using var scope = NewDisposeScope();
        var hot = nn.functional.one_hot(codes.to(ScalarType.Int64), 5).narrow(2, 0, 4);   // code 4 (N) → zeros
        return hot.permute(0, 2, 1).to(ScalarType.Float32).to(device).contiguous().MoveToOuterDisposeScope();
    }

    public Tensor LabelsOf(long[] indices, Device device) => Labels.index_select(0, torch.tensor(indices)).to(device);
}
