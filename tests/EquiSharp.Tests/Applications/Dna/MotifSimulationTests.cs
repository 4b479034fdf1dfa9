using EquiSharp.Applications.Dna.Data;
using EquiSharp.Applications.Dna.Formats;
using EquiSharp.Applications.Dna.Simulation;

namespace EquiSharp.Tests.Applications.Dna;

public sealed class MotifSimulationTests
{
    private static Motif Deterministic(string name, string consensus)
    {
        var p = new double[consensus.Length, 4];
        for (int i = 0; i < consensus.Length; i++) p[i, "ACGT".IndexOf(consensus[i])] = 1;
        return new Motif(name, p);
    }

    private static readonly Motif[] Motifs = { Deterministic("M1", "GATAAG"), Deterministic("M2", "CCGGAAGT"), Deterministic("M3", "AGGTCAAAGG") };

    [Fact]
    public void InstancesArePlantedAsSampledOnEitherStrandWithoutOverlap()
    {
        var data = MotifSimulation.Run(Motifs, new MotifSimulationOptions { Count = 600, Seed = 4 });
        Assert.Equal(600, data.Ids.Length);
        Assert.All(data.Sequences, s => Assert.Equal(200, s.Length));
        Assert.Equal(new[] { 200, 200, 200 }, Enumerable.Range(0, 3).Select(k => data.SourceMotif.Count(s => s == k)));
        foreach (var group in data.Planted.GroupBy(p => p.SequenceId))
        {
            int i = Array.IndexOf(data.Ids, group.Key);
            Assert.InRange(group.Count(), 1, 3);
            var covered = new bool[200];
            foreach (var p in group)
            {
                var motif = Motifs.Single(m => m.Name == p.Motif);
                Assert.Equal(Motifs[data.SourceMotif[i]].Name, p.Motif);
                string consensus = new(Enumerable.Range(0, motif.Length).Select(j => "ACGT"[Enumerable.Range(0, 4).First(b => motif.Probabilities[j, b] == 1)]).ToArray());
                Assert.Equal(p.Strand == '+' ? consensus : Fasta.ReverseComplement(consensus), p.Instance);
                Assert.Equal(p.Instance, data.Sequences[i].Substring(p.Start, p.Instance.Length));
                for (int j = p.Start; j < p.Start + p.Instance.Length; j++) { Assert.False(covered[j], "overlapping instances"); covered[j] = true; }
            }
        }
        double minus = data.Planted.Count(p => p.Strand == '-') / (double)data.Planted.Count;
        Assert.InRange(minus, 0.4, 0.6);
    }

    [Fact]
    public void InstanceCountsFollowAPoissonTwoTruncatedByResampling()
    {
        var rng = new Random(1);
        var counts = Enumerable.Range(0, 40000).Select(_ => MotifSimulation.TruncatedPoisson(rng, 2, 1, 3)).ToArray();
        // P(k | 1 ≤ k ≤ 3) ∝ 2^k/k!: 2, 2, 4/3 → 0.375, 0.375, 0.25
        Assert.InRange(counts.Count(c => c == 1) / 40000.0, 0.36, 0.39);
        Assert.InRange(counts.Count(c => c == 2) / 40000.0, 0.36, 0.39);
        Assert.InRange(counts.Count(c => c == 3) / 40000.0, 0.24, 0.26);
    }

    [Fact]
    public void BackgroundHasFortyPercentGcAndLabelsAreShuffledAmongTwentyPercent()
    {
        var data = MotifSimulation.Run(Motifs, new MotifSimulationOptions { Count = 3000, Seed = 7 });
        double gc = data.Sequences.Sum(s => s.Count(c => c is 'G' or 'C')) / (double)(3000 * 200);
        Assert.InRange(gc, 0.38, 0.42);   // motif instances shift it a little
        Assert.Equal(600, data.ShuffledCount);
        int changed = Enumerable.Range(0, 3000).Count(i => !data.Labels[i][data.SourceMotif[i]]);
        Assert.InRange(changed, 300, 600);   // a permutation of 600 vectors over 3 classes changes about 2/3 of them
        Assert.All(data.Labels, l => Assert.Equal(1, l.Count(x => x)));
        Assert.Equal(1200, data.Split.Count(s => s == DnaDataSet.Train));
    }

    [Fact]
    public void TheSameSeedReproducesTheFilesAndTheyLoadBack()
    {
        using var dir = new TempDir();
        var a = MotifSimulation.Run(Motifs, new MotifSimulationOptions { Count = 90, Seed = 2 });
        var b = MotifSimulation.Run(Motifs, new MotifSimulationOptions { Count = 90, Seed = 2 });
        Assert.Equal(a.Sequences, b.Sequences);
        Assert.NotEqual(a.Sequences, MotifSimulation.Run(Motifs, new MotifSimulationOptions { Count = 90, Seed = 3 }).Sequences);
        MotifSimulation.Write(a, dir.Path);
        var loaded = DnaDataSet.LoadDirectory(dir.Path, seed: 99);   // the split column wins over the seed
        Assert.Equal(a.Split, loaded.Split);
        Assert.Equal(new[] { "M1", "M2", "M3" }, loaded.TaskNames);
        Assert.True(File.Exists(Path.Combine(dir.Path, "planted.tsv")));
    }
}
