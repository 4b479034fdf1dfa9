using System.Globalization;
using EquiSharp.Applications.Dna.Data;
using EquiSharp.Applications.Dna.Formats;

namespace EquiSharp.Applications.Dna.Simulation;

/// <summary>Options of the embedded-motif simulation (defaults: the paper's §3.2).</summary>
public sealed record MotifSimulationOptions
{
    /// <summary>Total sequences, split evenly between the motifs (the first motifs get one more when it does not divide).</summary>
    public int Count { get; init; } = 30000;
    public int Length { get; init; } = 200;
    public double GcFraction { get; init; } = 0.4;
    public double MeanInstances { get; init; } = 2;
    public int MinInstances { get; init; } = 1;
    public int MaxInstances { get; init; } = 3;
    public double ShuffledLabelFraction { get; init; } = 0.2;
    public int Seed { get; init; } = 1;
}

/// <summary>One inserted motif instance: sequence, motif, 0-based start, strand (+ as sampled, − reverse complemented).</summary>
public sealed record PlantedInstance(string SequenceId, string Motif, int Start, char Strand, string Instance);

/// <summary>A simulated data set: sequences, one-vs-rest labels (after shuffling), the split and the planted instances.</summary>
public sealed record SimulatedData(string[] Ids, string[] Sequences, string[] TaskNames, bool[][] Labels, int[] Split,
    int[] SourceMotif, IReadOnlyList<PlantedInstance> Planted, int ShuffledCount);

/// <summary>
/// The simulation of §3.2: for each motif, Count/k sequences made by (1) a background of the given length with GC
/// fraction g (C and G each g/2, A and T each (1−g)/2, independently per position), (2) a number of instances drawn
/// from Poisson(mean), redrawn until it lies in [min, max] (truncation by resampling), (3) each instance sampled
/// position by position from the PWM, (4) reverse complemented with probability ½, (5) written over the background at
/// a uniformly random start such that it overlaps no earlier instance of that sequence (starts redrawn until it fits).
/// Task t is one-vs-rest: a sequence is positive for t when its motif is motif t. Label noise: ⌊fraction·N⌉
/// sequences chosen at random have their label vectors permuted among themselves (a random permutation, so some may
/// keep their own). The split is random 40/30/30. Everything is drawn from one <see cref="Random"/> seeded by
/// <see cref="MotifSimulationOptions.Seed"/>, so the output is reproducible.
/// </summary>
public static class MotifSimulation
{
    public static SimulatedData Run(IReadOnlyList<Motif> motifs, MotifSimulationOptions o)
    {
        if (motifs.Count < 2) throw new ArgumentException($"the simulation needs at least two motifs (one-vs-rest tasks), got {motifs.Count}.");
        if (o.Count < motifs.Count) throw new ArgumentException($"--n {o.Count} is smaller than the number of motifs ({motifs.Count}).");
        if (o.GcFraction is < 0 or > 1) throw new ArgumentException($"GC fraction must lie in [0, 1], got {o.GcFraction}.");
        if (o.MinInstances < 1 || o.MaxInstances < o.MinInstances) throw new ArgumentException($"instance bounds [{o.MinInstances}, {o.MaxInstances}] are invalid.");
        foreach (var m in motifs)
            if (m.Length * o.MaxInstances > o.Length)
                throw new ArgumentException($"motif {m.Name} ({m.Length} positions) × {o.MaxInstances} instances does not fit in length {o.Length} without overlap.");
        var rng = new Random(o.Seed);
        int n = o.Count, k = motifs.Count;
        // balanced motif assignment in a random order
        var source = Enumerable.Range(0, n).Select(i => i % k).ToArray();
        rng.Shuffle(source);
        var ids = Enumerable.Range(0, n).Select(i => $"seq{i + 1:D6}").ToArray();
        var sequences = new string[n];
        var planted = new List<PlantedInstance>();
        for (int i = 0; i < n; i++)
        {
            var seq = Background(rng, o.Length, o.GcFraction);
            var motif = motifs[source[i]];
            int count = TruncatedPoisson(rng, o.MeanInstances, o.MinInstances, o.MaxInstances);
            var occupied = new bool[o.Length];
            for (int c = 0; c < count; c++)
            {
                var instance = Sample(rng, motif);
                char strand = '+';
                if (rng.NextDouble() < 0.5) { instance = Fasta.ReverseComplement(instance); strand = '-'; }
                int start;
                do start = rng.Next(o.Length - instance.Length + 1);
                while (Enumerable.Range(start, instance.Length).Any(p => occupied[p]));
                for (int p = 0; p < instance.Length; p++) { seq[start + p] = instance[p]; occupied[start + p] = true; }
                planted.Add(new PlantedInstance(ids[i], motif.Name, start, strand, instance));
            }
            sequences[i] = new string(seq);
        }
        var labels = source.Select(s => Enumerable.Range(0, k).Select(t => t == s).ToArray()).ToArray();
        int shuffled = (int)Math.Round(o.ShuffledLabelFraction * n);
        var chosen = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(chosen);
        var picked = chosen.Take(shuffled).ToArray();
        var permuted = picked.ToArray();
        rng.Shuffle(permuted);
        var original = labels.ToArray();
        for (int j = 0; j < shuffled; j++) labels[picked[j]] = original[permuted[j]];
        var split = DnaDataSet.RandomSplit(n, o.Seed);
        return new SimulatedData(ids, sequences, motifs.Select(m => m.Name).ToArray(), labels, split, source, planted, shuffled);
    }

    /// <summary>Writes sequences.fa, labels.tsv (id, one column per task, split) and planted.tsv into <paramref name="dir"/>.</summary>
    public static void Write(SimulatedData data, string dir)
    {
        Directory.CreateDirectory(dir);
        Fasta.Write(Path.Combine(dir, "sequences.fa"), data.Ids.Zip(data.Sequences));
        LabelTable.Write(Path.Combine(dir, "labels.tsv"), data.TaskNames,
            data.Ids.Select((id, i) => (id, data.Labels[i], LabelTable.SplitNames[data.Split[i]])));
        using var w = new StreamWriter(Path.Combine(dir, "planted.tsv"));
        w.Write("id\tmotif\tstart\tstrand\tinstance\n");
        foreach (var p in data.Planted)
            w.Write(string.Create(CultureInfo.InvariantCulture, $"{p.SequenceId}\t{p.Motif}\t{p.Start}\t{p.Strand}\t{p.Instance}\n"));
    }

    private static char[] Background(Random rng, int length, double gc)
    {
        var s = new char[length];
        for (int i = 0; i < length; i++)
        {
            double u = rng.NextDouble();
            s[i] = u < gc / 2 ? 'C' : u < gc ? 'G' : u < gc + (1 - gc) / 2 ? 'A' : 'T';
        }
        return s;
    }

    /// <summary>Poisson(mean) by Knuth's product of uniforms, redrawn until it lies in [min, max].</summary>
    public static int TruncatedPoisson(Random rng, double mean, int min, int max)
    {
        double limit = Math.Exp(-mean);
        while (true)
        {
            int k = 0;
            double p = rng.NextDouble();
            while (p > limit) { k++; p *= rng.NextDouble(); }
            if (k >= min && k <= max) return k;
        }
    }

    private static string Sample(Random rng, Motif motif)
    {
        var s = new char[motif.Length];
        for (int i = 0; i < motif.Length; i++)
        {
            double u = rng.NextDouble(), acc = 0;
            int b = 0;
            for (; b < 3; b++) { acc += motif.Probabilities[i, b]; if (u < acc) break; }
            s[i] = "ACGT"[b];
        }
        return new string(s);
    }
}
