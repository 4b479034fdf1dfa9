using System.Text.Json;
using System.Text.RegularExpressions;
using EquiSharp.Applications.Recommendation.Models;
using EquiSharp.Applications.Recommendation.Training;
using EquiSharp.Cli.Commands;
using EquiSharp.Tests.Cli;
using EquiSharp.Training;

namespace EquiSharp.Tests.Applications.Recommendation;

/// <summary><c>equisharp rec train|eval|recommend</c> in-process on a small generated MovieLens-100K file.</summary>
[Collection("rna-serial")] // redirects Console and seeds the global torch RNG
public sealed class RecCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => InProcessCli.Run(new RecCommand(), args);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// 30 users (ids 101…130), each with 16 distinct items out of 25 (ids 1…25) at increasing timestamps, written in a
    /// shuffled line order (the reader must sort by time); every user has 9 items never seen.
    /// </summary>
    private static (string Text, Dictionary<string, HashSet<string>> Seen) Ratings(int seed = 5)
    {
        var rng = new Random(seed);
        var lines = new List<string>();
        var seen = new Dictionary<string, HashSet<string>>();
        for (int u = 0; u < 30; u++)
        {
            string user = (101 + u).ToString();
            var items = Enumerable.Range(1, 25).OrderBy(_ => rng.Next()).Take(16).ToArray();
            seen[user] = items.Select(i => i.ToString()).ToHashSet();
            for (int k = 0; k < items.Length; k++) lines.Add($"{user}\t{items[k]}\t{1 + rng.Next(5)}\t{880000000 + 1000 * k + u}");
        }
        return (string.Join("\n", lines.OrderBy(_ => rng.Next())) + "\n", seen);
    }

    private static string[] TrainArgs(string data, string outDir, params string[] extra) =>
        new[] { "rec", "train", "--data", data, "--format", "ml100k", "--out", outDir, "--dim", "8", "--batch", "32", "--seed", "3" }.Concat(extra).ToArray();

    [Fact]
    public void TrainResumeEvaluateAndRecommendOnAGeneratedRatingsFile()
    {
        using var dir = new TempDir();
        var (text, seen) = Ratings();
        string data = dir.WriteGzip("u.data.gz", text), run = Path.Combine(dir.Path, "run");

        var r = Run(TrainArgs(data, run, "--model", "scosrec", "--max-steps", "3"));
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("30 users, 25 items, 480 interactions", r.Out);
        // 16 items: ⌊16·0.7⌋ = 11 train items → 11 − 8 + 1 = 4 windows per user, 120 instances, 4 steps of 32
        Assert.Contains("120 training instances", r.Out);
        Assert.Contains("4 steps per epoch of batch 32", r.Out);
        var (cosRec, sCosRec) = RecommendationTrainRun.ParameterCounts(new CosRecConfig { Users = 30, Items = 25, EmbeddingDim = 8 });
        Assert.True(sCosRec < cosRec);
        Assert.Contains(FormattableString.Invariant($"free parameters at these sizes: CosRec {cosRec:N0}, SCosRec {sCosRec:N0}"), r.Out);
        Assert.Contains("finished: 3 steps, 1 epochs", r.Out);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunOptions.FileName))))
        {
            Assert.Equal(Path.GetFullPath(data), json.RootElement.GetProperty("DataPath").GetString());
            Assert.Equal("MovieLens100K", json.RootElement.GetProperty("Format").GetString());
            Assert.Equal(3, json.RootElement.GetProperty("Seed").GetInt32());
            Assert.Equal(0.7, json.RootElement.GetProperty("TrainFraction").GetDouble());
        }
        Assert.True(File.Exists(Path.Combine(run, "curves.png")));

        // --resume alone keeps the recorded options; epoch 1 was cut at step 3 of 4, epoch 2 runs in full
        r = Run("rec", "train", "--resume", run, "--epochs", "2", "--max-steps", "100");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("resumed from", r.Out);
        Assert.Contains("finished: 7 steps, 2 epochs", r.Out);
        Assert.Equal(2, Checkpoint.ReadState(run).History.Count);
        r = Run("rec", "train", "--resume", run, "--model", "cosrec");
        Assert.Equal(1, r.Code);
        Assert.Contains("--model cosrec (the run has scosrec)", r.Err);

        r = Run("rec", "eval", "--model", run);
        Assert.True(r.Code == 0, r.Err + r.Out);
        string last = Lines(r.Out)[^1];
        Assert.Matches(new Regex(@"^map=[01]\.\d{4} p1=[01]\.\d{4} p5=[01]\.\d{4} p10=[01]\.\d{4} r1=[01]\.\d{4} r5=[01]\.\d{4} r10=[01]\.\d{4}$"), last);
        Assert.Contains("test period: 30 users", r.Out);
        var again = Run("rec", "eval", "--model", run, "--data", dir.Write("copy.data", text)); // the same interactions elsewhere
        Assert.Equal(last, Lines(again.Out)[^1]);
        var shuffled = string.Join("\n", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Reverse());
        r = Run("rec", "eval", "--model", run, "--data", dir.Write("reordered.data", shuffled));
        Assert.Equal(1, r.Code);
        Assert.Contains("not those the model was trained on", r.Err);

        r = Run("rec", "recommend", "--model", run, "--user", "107", "--k", "10");
        Assert.True(r.Code == 0, r.Err + r.Out);
        var rows = Lines(r.Out).Skip(1).Select(l => l.Split(' ')).ToList();
        Assert.Equal(9, rows.Count);                                   // only 9 items are unseen by user 107
        Assert.Equal(Enumerable.Range(1, 9).Select(k => k.ToString()), rows.Select(x => x[0]));
        Assert.All(rows, x => Assert.DoesNotContain(x[1], seen["107"]));
        Assert.Equal(9, rows.Select(x => x[1]).Distinct().Count());
        var scores = rows.Select(x => double.Parse(x[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        r = Run("rec", "recommend", "--model", run, "--user", "107", "--k", "3");
        Assert.Equal(4, Lines(r.Out).Length);

        dir.WriteGzip("u.data.gz", shuffled);                              // the recorded file changed under the run
        r = Run("rec", "train", "--resume", run, "--epochs", "3", "--max-steps", "100");
        Assert.Equal(1, r.Code);
        Assert.Contains("not those the model was trained on", r.Err);
        Assert.Equal(2, Checkpoint.ReadState(run).History.Count);
    }

    [Fact]
    public void BadOptionsAndFilesEndInOneErrorLine()
    {
        using var dir = new TempDir();
        var (text, _) = Ratings();
        string data = dir.Write("u.data", text);
        (string[] Args, string Message)[] cases =
        {
            (TrainArgs(data, Path.Combine(dir.Path, "a"), "--model", "caser"), "--model caser: expected cosrec"),
            (new[] { "rec", "train", "--data", data, "--format", "ml20m", "--out", Path.Combine(dir.Path, "b") }, "--format ml20m"),
            (TrainArgs(Path.Combine(dir.Path, "missing.data"), Path.Combine(dir.Path, "c")), "missing.data: no such file"),
            (TrainArgs(data, Path.Combine(dir.Path, "d"), "--train-fraction", "0.9", "--valid-fraction", "0.2"), "--train-fraction 0.9 --valid-fraction 0.2"),
            (TrainArgs(data, Path.Combine(dir.Path, "e"), "--negatives", "0"), "--negatives 0: expected a positive number"),
            (TrainArgs(data, Path.Combine(dir.Path, "f"), "--max-steps", "0"), "--max-steps 0"),
            (new[] { "rec", "train", "--data", data }, "--out (or --resume DIR) is required"),
            (new[] { "rec", "train", "--resume", Path.Combine(dir.Path, "nothing") }, "nothing: not a run directory"),
            (TrainArgs(dir.Write("bad.data", "1\t2\t3\t4\n1\t2\tfive\t5\n"), Path.Combine(dir.Path, "g")), "bad.data, line 2"),
            (TrainArgs(dir.Write("wrong.data", "1::2::3::4\n"), Path.Combine(dir.Path, "h")), "expected 4 tab-separated fields"),
            (new[] { "rec", "eval", "--model", dir.Path }, "not a run directory of 'equisharp rec train' (no run.json)"),
            (new[] { "rec", "eval", "--model", Path.Combine(dir.Path, "none") }, "none: not a run directory (there is no such directory)"),
        };
        foreach (var (args, message) in cases)
        {
            var r = Run(args);
            Assert.True(r.Code == 1, $"{string.Join(' ', args)} → {r.Code}: {r.Out}{r.Err}");
            Assert.Contains(message, r.Err);
            Assert.StartsWith("error: ", r.Err);
            Assert.Single(Lines(r.Err));
        }

        string run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, Run(TrainArgs(data, run, "--max-steps", "1")).Code);
        var again = Run(TrainArgs(data, run, "--max-steps", "1"));
        Assert.Equal(1, again.Code);
        Assert.Contains("already holds a run", again.Err);
        var k0 = Run("rec", "recommend", "--model", run, "--user", "101", "--k", "0");
        Assert.Equal(1, k0.Code);
        Assert.Contains("--k 0", k0.Err);
        var nobody = Run("rec", "recommend", "--model", run, "--user", "999");
        Assert.Equal(1, nobody.Code);
        Assert.Contains("--user 999: no such user", nobody.Err);
    }
}
