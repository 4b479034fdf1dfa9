using System.Globalization;
using EquiSharp.Cli.Commands;
using EquiSharp.Tests.Cli;

namespace EquiSharp.Tests.Applications.Dna;

[Collection("rna-serial")] // redirects Console
public sealed class DnaCliTests
{
    private const string Motifs = ">M1\tx\ty\nG 0 0 1 0\nA 1 0 0 0\nT 0 0 0 1\nA 1 0 0 0\nA 0.9 0 0.1 0\nG 0 0 1 0\n" +
                                  ">M2\nC 0 1 0 0\nC 0 1 0 0\nG 0 0 1 0\nG 0 0 1 0\nA 1 0 0 0\nA 1 0 0 0\nG 0 0 1 0\nT 0 0 0 1\n";

    private static double LastValue(string output, string key)
    {
        var last = output.TrimEnd().Split('\n')[^1].Trim();
        var field = last.Split(' ').Single(f => f.StartsWith(key + "=", StringComparison.Ordinal));
        return double.Parse(field[(key.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public void SimulateTrainEvalCheckRcAndCompareEndToEnd()
    {
        using var dir = new TempDir();
        string motifs = dir.Write("motifs.txt", Motifs), data = Path.Combine(dir.Path, "sim");
        var sim = InProcessCli.Run(new DnaCommand(), "dna", "simulate", "--motifs", motifs, "--names", "M1,M2", "--out", data, "--n", "300", "--seed", "3");
        Assert.True(sim.Code == 0, sim.Err);
        var runs = new Dictionary<string, string>();
        foreach (var kind in new[] { "rc", "standard" })
        {
            string run = Path.Combine(dir.Path, kind);
            var train = InProcessCli.Run(new DnaCommand(), "dna", "train", "--data", data, "--model", kind, "--filters", "4", "--out", run,
                "--samples-per-epoch", "60", "--batch", "30", "--max-steps", "6", "--seed", "1",
                "--threads", "0");   // torch's thread count is global: leave it for tests running alongside
            Assert.True(train.Code == 0, train.Err + train.Out);
            Assert.True(File.Exists(Path.Combine(run, "metrics.json")));
            Assert.True(File.Exists(Path.Combine(run, "curves.png")));
            var eval = InProcessCli.Run(new DnaCommand(), "dna", "eval", "--model", run, "--data", data);
            Assert.True(eval.Code == 0, eval.Err);
            Assert.InRange(LastValue(eval.Out, "auroc"), 0, 1);
            Assert.InRange(LastValue(eval.Out, "auprc"), 0, 1);
            var check = InProcessCli.Run(new DnaCommand(), "dna", "check-rc", "--model", run, "--fasta", Path.Combine(data, "sequences.fa"));
            Assert.True(check.Code == 0, check.Err);
            double gap = LastValue(check.Out, "max_rc_dev");
            if (kind == "rc") Assert.True(gap <= 1e-6, $"RC model gap {gap}");
            else Assert.True(gap > 1e-4, $"standard model gap {gap}");
            runs[kind] = run;
        }
        var compare = InProcessCli.Run(new DnaCommand(), "dna", "compare", "--a", runs["rc"], "--b", runs["standard"]);
        Assert.True(compare.Code == 0, compare.Err);
        Assert.InRange(LastValue(compare.Out, "p_value"), 0.5, 1.0);   // one run against one: p is ½ or 1
    }

    [Fact]
    public void UserErrorsEndWithAMessageAndExitCode1()
    {
        using var dir = new TempDir();
        var missing = InProcessCli.Run(new DnaCommand(), "dna", "eval", "--model", Path.Combine(dir.Path, "nothing"), "--data", dir.Path);
        Assert.Equal(1, missing.Code);
        Assert.StartsWith("error:", missing.Err.Trim());
        string fa = dir.Write("s.fa", ">a\nACGT\n>b\nACGTA\n"), tsv = dir.Write("l.tsv", "id\tt\na\t1\nb\t0\n");
        var length = InProcessCli.Run(new DnaCommand(), "dna", "train", "--fasta", fa, "--labels", tsv, "--out", Path.Combine(dir.Path, "run"), "--threads", "0");
        Assert.Equal(1, length.Code);
        Assert.Contains("s.fa:3", length.Err);
        var layout = InProcessCli.Run(new DnaCommand(), "dna", "train", "--fasta", dir.Write("t.fa", ">a\n" + new string('A', 205) + "\n>b\n" + new string('C', 205) + "\n"),
            "--labels", tsv, "--out", Path.Combine(dir.Path, "run2"), "--threads", "0");
        Assert.Equal(1, layout.Code);
        Assert.Contains("reverse-complement invariant", layout.Err);
    }
}
