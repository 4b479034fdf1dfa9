using System.Text.Json;
using EquiSharp.Cli.Commands;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Tests.Cli;
using EquiSharp.Training;

namespace EquiSharp.Tests.Applications.Rna;

/// <summary>
/// Tests that redirect Console.Out or seed the global torch RNG (manual_seed) run alone, so they neither capture
/// other tests' output nor shift the random draws of tests running in parallel.
/// </summary>
[CollectionDefinition("rna-serial", DisableParallelization = true)]
public sealed class RnaSerialCollection { }

[Collection("rna-serial")]
public sealed class RnaCliTests
{
    /// <summary>Runs <c>equisharp rna …</c> in-process; returns exit code and captured stdout/stderr.</summary>
    private static (int Code, string Out, string Err) Run(params string[] args) => InProcessCli.Run(new RnaCommand(), args);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] TrainArgs(string train, string valid, string model, string outDir, params string[] extra) =>
        new[] { "rna", "train", "--train", train, "--valid", valid, "--model", model, "--out", outDir, "--size", "small", "--batch", "4",
                "--crop", "32", "--dev-max-length", "32", "--seed", "3", "--device", "cpu" }.Concat(extra).ToArray();

    /// <summary>--maps: packed maps train the SCNN (and resume), auto picks dense below the measured crossover, the CNN refuses packed.</summary>
    [Fact]
    public void TrainOnPackedMapsFromTheCommandLine()
    {
        using var dir = new TempDir();
        string train = Path.Combine(dir.Path, "train.fa");
        RnaFile.Write(train, SyntheticRna.Generate(12, 16, 40, seed: 21), RnaFileFormat.DotBracketFasta);
        string packed = Path.Combine(dir.Path, "packed");
        var r = Run("rna", "train", "--train", train, "--model", "scnn", "--out", packed, "--size", "small", "--batch", "4", "--crop", "40",
            "--dev-max-length", "32", "--max-steps", "2", "--maps", "packed");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("packed pair maps", r.Out);
        Assert.Contains("finished: 2 steps", r.Out);
        r = Run("rna", "train", "--resume", packed, "--epochs", "2", "--max-steps", "100"); // the recorded --maps packed holds
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("resumed from", r.Out);
        Assert.True(r.Out.Contains("finished: 5 steps, 2 epochs"), r.Out); // epoch 1 was cut at step 2 of 3, epoch 2 runs in full
        r = Run("rna", "train", "--train", train, "--model", "scnn", "--out", Path.Combine(dir.Path, "auto"), "--size", "small", "--batch", "4",
            "--crop", "40", "--max-steps", "1");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("dense pair maps", r.Out); // crop 40 < PairMapPolicy.PackedFromLength
        r = Run("rna", "train", "--train", train, "--model", "cnn", "--out", Path.Combine(dir.Path, "cnn"), "--size", "small", "--max-steps", "1", "--maps", "packed");
        Assert.Equal(1, r.Code);
        Assert.Contains("--maps packed needs the symmetric model", r.Err);
        r = Run("rna", "train", "--train", train, "--model", "scnn", "--out", Path.Combine(dir.Path, "bad"), "--maps", "folded");
        Assert.Equal(1, r.Code);
        Assert.Contains("--maps folded", r.Err);
    }

    /// <summary>--train repeated reads every source (recorded in order), --select picks the selection metric, --clip-grad is validated.</summary>
    [Fact]
    public void TrainOnSeveralSourcesWithAChosenSelectionMetric()
    {
        using var dir = new TempDir();
        string a = Path.Combine(dir.Path, "a.fa"), b = Path.Combine(dir.Path, "b.ct");
        RnaFile.Write(a, SyntheticRna.Generate(6, 16, 30, seed: 1), RnaFileFormat.DotBracketFasta);
        RnaFile.Write(b, SyntheticRna.Generate(5, 16, 30, seed: 2), RnaFileFormat.Ct);
        string run = Path.Combine(dir.Path, "run");
        var r = Run("rna", "train", "--train", a, "--train", b, "--model", "scnn", "--out", run, "--size", "small", "--batch", "4", "--crop", "30",
            "--select", "f1", "--clip-grad", "1.0", "--max-steps", "2", "--epochs", "1");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("train 9 records, dev 2", r.Out); // 6 + 5 records, 10% (at least one) … of 11 → 2 dev
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunOptions.FileName)));
        Assert.Equal(new[] { Path.GetFullPath(a), Path.GetFullPath(b) }, json.RootElement.GetProperty("TrainPaths").EnumerateArray().Select(e => e.GetString()).ToArray());
        Assert.Equal("f1", json.RootElement.GetProperty("Select").GetString());
        var state = Checkpoint.ReadState(run);
        Assert.Equal(state.History[0].Dev["f1"], state.History[0].Score); // the recorded score is the selected metric
        r = Run("rna", "train", "--train", a, "--out", Path.Combine(dir.Path, "bad"), "--select", "auc");
        Assert.Equal(1, r.Code);
        Assert.Contains("--select auc", r.Err);
        r = Run("rna", "train", "--train", a, "--out", Path.Combine(dir.Path, "bad2"), "--clip-grad", "0");
        Assert.Equal(1, r.Code);
        Assert.Contains("--clip-grad", r.Err);
    }

    [Fact]
    public void TrainEvalPredictResumeOnSmallFilesInSeveralFormats()
    {
        using var dir = new TempDir();
        var records = SyntheticRna.Generate(18, 16, 40, seed: 7);
        // training data: gzip five-line records; and a directory of CT files (plus a file that is skipped)
        string fiveLine = Path.Combine(dir.Path, "train.txt.gz");
        RnaFile.Write(fiveLine, records, RnaFileFormat.FiveLine);
        string ctDir = Directory.CreateDirectory(Path.Combine(dir.Path, "ct")).FullName;
        for (int k = 0; k < records.Count; k++) RnaFile.Write(Path.Combine(ctDir, $"r{k}.ct"), new[] { records[k] }, RnaFileFormat.Ct);
        File.WriteAllText(Path.Combine(ctDir, "README"), "not a structure file\n");
        var validRecords = SyntheticRna.Generate(3, 20, 30, seed: 8);
        string valid = Path.Combine(dir.Path, "valid.fa");
        RnaFile.Write(valid, validRecords, RnaFileFormat.DotBracketFasta);

        // 1. train the SCNN on the five-line file: 16 train records / batch 4 = 4 steps per epoch; --max-steps 2 ends after 2 steps
        string scnn = Path.Combine(dir.Path, "scnn");
        var r = Run(TrainArgs(fiveLine, valid, "scnn", scnn, "--epochs", "3", "--max-steps", "2"));
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("finished: 2 steps, 1 epochs", r.Out);
        Assert.Contains("stop: max-steps", r.Out);
        foreach (var f in new[] { "model.json", "dev-split.json", "curves.png", "valid-report.txt", "best/model.bin", "checkpoint/state.json" })
            Assert.True(File.Exists(Path.Combine(scnn, f)), $"missing {f}");
        Assert.EndsWith("n=3", Lines(File.ReadAllText(Path.Combine(scnn, "valid-report.txt")))[^1]);
        var split = JsonDocument.Parse(File.ReadAllText(Path.Combine(scnn, "dev-split.json"))).RootElement;
        Assert.Equal(2, split.GetProperty("DevIndices").GetArrayLength()); // ⌈10% of 18⌉

        // 2. resume with a larger budget: continues after the (cut-short) first epoch and runs epoch 2 in full (4 steps)
        r = Run("rna", "train", "--resume", scnn, "--epochs", "2", "--max-steps", "100");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("resumed from", r.Out);
        Assert.True(r.Out.Contains("finished: 6 steps, 2 epochs"), r.Out);
        var state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(Path.Combine(scnn, "checkpoint", "state.json")))!;
        Assert.Equal(6, state.Step);
        Assert.True(state.Finished);
        Assert.Equal(new[] { 1, 2 }, state.History.Select(h => h.Epoch));

        // resuming a finished run neither trains nor repeats the full-length report
        r = Run("rna", "train", "--resume", scnn);
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("already in", r.Out);
        Assert.Contains("finished: 6 steps, 2 epochs", r.Out);
        Assert.StartsWith("# " + valid + " after step 6", File.ReadAllText(Path.Combine(scnn, "valid-report.txt")));

        // 3. train the CNN on the CT directory; the README is reported as skipped
        string cnn = Path.Combine(dir.Path, "cnn");
        r = Run(TrainArgs(ctDir, valid, "cnn", cnn, "--epochs", "1", "--activation", "sigmoid"));
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("skipped", r.Out);
        Assert.Contains("README", r.Out);
        Assert.Contains("\"Model\": \"cnn\"", File.ReadAllText(Path.Combine(cnn, "model.json")));
        Assert.Contains("Sigmoid", File.ReadAllText(Path.Combine(cnn, "model.json")));

        // 4. eval on a CSV file and on a directory; last line is the mean summary
        string csv = Path.Combine(dir.Path, "eval.csv");
        RnaFile.Write(csv, validRecords, RnaFileFormat.Csv);
        foreach (var (model, data) in new[] { (scnn, csv), (cnn, ctDir) })
        {
            r = Run("rna", "eval", "--model", model, "--data", data, "--threshold", "0.3", "--min-hairpin", "3", "--canonical");
            Assert.True(r.Code == 0, r.Err + r.Out);
            string last = Lines(r.Out)[^1];
            Assert.Matches(@"^mean ppv=\d\.\d{4} sen=\d\.\d{4} acc=\d\.\d{4} f1=\d\.\d{4} mcc=-?\d\.\d{4} n=\d+$", last);
            Assert.EndsWith(data == csv ? "n=3" : $"n={records.Count}", last);
        }

        // 5. predict: --seq and --fasta (with structures) → dot-bracket lines, CT files and heatmaps
        string preds = Path.Combine(dir.Path, "pred");
        r = Run("rna", "predict", "--model", scnn, "--seq", "GGGGAAAACCCCuuAGCU", "--out", preds);
        Assert.True(r.Code == 0, r.Err + r.Out);
        var lines = Lines(r.Out);
        Assert.Equal(">seq", lines[0]);
        Assert.Equal("GGGGAAAACCCCUUAGCU", lines[1]);
        Assert.Matches(@"^[().\[\]{}<>A-Za-z]{18}$", lines[2]);
        Assert.Equal(18, RnaFile.Read(Path.Combine(preds, "seq.ct")).Records.Single().Length);
        Assert.True(new FileInfo(Path.Combine(preds, "seq.png")).Length > 1000);

        r = Run("rna", "predict", "--model", cnn, "--fasta", valid, "--out", preds, "--tile", "8");
        Assert.True(r.Code == 0, r.Err + r.Out);
        lines = Lines(r.Out);
        Assert.Equal(3 * 3, lines.Length);
        // stdout is itself a dot-bracket FASTA file
        var reread = RnaFile.Parse(r.Out, "predict-stdout").Records;
        Assert.Equal(validRecords.Select(x => x.Sequence), reread.Select(x => x.Sequence));
        Assert.Equal(validRecords[0].Sequence, lines[1]);
        var ct = RnaFile.Read(Path.Combine(preds, validRecords[0].Name.Replace('-', '-') + ".ct")).Records.Single();
        Assert.Equal(DotBracket.Format(ct.Partners), lines[2]);
    }

    /// <summary>
    /// predict decodes with a minimum hairpin loop of 3 unless told otherwise. At a low threshold the bundled model's
    /// pair probabilities of this palindrome-like sequence, decoded without the minimum, pair two neighbouring bases.
    /// </summary>
    [Fact]
    public void PredictKeepsThreeUnpairedBasesInEveryHairpinLoopByDefault()
    {
        using var dir = new TempDir();
        const string sequence = "GGGGAAACCCCAUAUGGGGAAACCCC";
        int ShortestLoop(params string[] extra)
        {
            var r = Run(new[] { "rna", "predict", "--seq", sequence, "--threshold", "0.05", "--out", Path.Combine(dir.Path, "p") }.Concat(extra).ToArray());
            Assert.True(r.Code == 0, r.Err + r.Out);
            var partners = DotBracket.Parse(Lines(r.Out)[2]);
            var loops = partners.Select((j, i) => j > i ? j - i - 1 : int.MaxValue).ToList();
            Assert.Contains(loops, l => l < int.MaxValue); // it pairs something
            return loops.Min();
        }
        Assert.True(ShortestLoop() >= 3);
        Assert.True(ShortestLoop("--min-hairpin", "0") < 3, "without the minimum, the decoded structure has a loop under 3 (the test's premise)");
    }

    /// <summary>Without --model, predict and eval use the bundled model and say so; eval prints the length bins before its mean line; --engine onnx still needs --model; predict leaves torch's thread count as it found it.</summary>
    [Fact]
    public void PredictAndEvalWithoutModelUseTheBundledModel()
    {
        using var dir = new TempDir();
        int threads = TorchSharp.torch.get_num_threads();
        var r = Run("rna", "predict", "--seq", "GGGGAAAACCCCUUAGCU", "--out", Path.Combine(dir.Path, "p"));
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Equal(threads, TorchSharp.torch.get_num_threads()); // a short query ran on one thread; the process-wide count is restored
        var lines = Lines(r.Out);
        Assert.Equal(new[] { ">seq", "GGGGAAAACCCCUUAGCU" }, lines.Take(2));
        Assert.Matches(@"^[().\[\]{}<>A-Za-z]{18}$", lines[2]);
        Assert.Contains("bundled model rna-default", Lines(r.Err)[0]);

        string data = Path.Combine(dir.Path, "eval.fa");
        RnaFile.Write(data, SyntheticRna.Generate(3, 30, 60, seed: 12), RnaFileFormat.DotBracketFasta);
        r = Run("rna", "eval", "--data", data);
        Assert.True(r.Code == 0, r.Err + r.Out);
        lines = Lines(r.Out);
        Assert.Contains(lines, l => l.StartsWith("SCNN from bundled model rna-default ("));
        foreach (var bin in new[] { "all", "<100", "100-200", "200-500", ">=500" })
            foreach (var pairs in new[] { "all", "nested" })
                Assert.Contains(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var b, var p, ..] && b == bin && p == pairs);
        Assert.Contains(lines, l => l.StartsWith("<100 ") && l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2] == "3");
        Assert.Matches(@"^mean ppv=\d\.\d{4} sen=\d\.\d{4} acc=\d\.\d{4} f1=\d\.\d{4} mcc=-?\d\.\d{4} n=3$", lines[^1]);

        // the data's warnings go to stderr: stdout is the score table, which users redirect to a file
        string odd = Path.Combine(dir.Path, "odd.fa");
        File.WriteAllText(odd, ">odd\nGGGGAXAACCCC\n((((....))))\n");
        r = Run("rna", "eval", "--data", odd);
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("warning: ", r.Err);
        Assert.Contains("1 unknown letter(s) in 1 record(s) mapped to N", r.Err);
        Assert.DoesNotContain("warning", r.Out);

        r = Run("rna", "predict", "--engine", "onnx", "--seq", "GGGGAAAACCCC");
        Assert.Equal(1, r.Code);
        Assert.Contains("--engine onnx needs --model", r.Err);
    }

    [Fact]
    public void PredictReadsPlainFastaAndErrorsNameTheProblem()
    {
        using var dir = new TempDir();
        var records = SyntheticRna.Generate(10, 16, 24, seed: 9);
        string train = dir.Write("train.bpseq", string.Concat(records.Select(x => RnaFile.ToText(new[] { x }, RnaFileFormat.Bpseq))));
        string model = Path.Combine(dir.Path, "m");
        // BPSEQ holds one record per file: train on a directory of them instead
        string bp = Directory.CreateDirectory(Path.Combine(dir.Path, "bp")).FullName;
        for (int k = 0; k < records.Count; k++) RnaFile.Write(Path.Combine(bp, $"{k}.bpseq"), new[] { records[k] }, RnaFileFormat.Bpseq);
        var r = Run("rna", "train", "--train", bp, "--model", "scnn", "--out", model, "--size", "small", "--max-steps", "1", "--batch", "5");
        Assert.True(r.Code == 0, r.Err + r.Out);

        // a run killed during its first epoch has model.json and dev-split.json but no checkpoint: --resume starts it again
        Directory.Delete(Path.Combine(model, "checkpoint"), true);
        Directory.Delete(Path.Combine(model, "best"), true);
        string splitBefore = File.ReadAllText(Path.Combine(model, "dev-split.json"));
        r = Run("rna", "train", "--train", bp, "--resume", model, "--max-steps", "1");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("starting it again", r.Out);
        Assert.Contains("finished: 1 steps", r.Out);
        Assert.Equal(splitBefore, File.ReadAllText(Path.Combine(model, "dev-split.json")));

        string fasta = dir.Write("q.fa", ">one\nACGUACGU\nGGCC\n>two\nacgtnnacgu\n");
        r = Run("rna", "predict", "--model", model, "--fasta", fasta, "--out", Path.Combine(dir.Path, "p"));
        Assert.True(r.Code == 0, r.Err + r.Out);
        var lines = Lines(r.Out);
        Assert.Equal(new[] { ">one", "ACGUACGUGGCC" }, lines.Take(2));
        Assert.Equal(">two", lines[3]);
        Assert.Equal("ACGUNNACGU", lines[4]);
        Assert.Equal(10, lines[5].Length);

        // errors: no model, bad option values, missing files — exit code 1 and a message naming the problem
        r = Run("rna", "eval", "--model", Path.Combine(dir.Path, "nope"), "--data", fasta);
        Assert.Equal(1, r.Code);
        Assert.Contains("model.json", r.Err);
        r = Run("rna", "train", "--train", bp, "--model", "rnn", "--out", Path.Combine(dir.Path, "x"));
        Assert.Equal(1, r.Code);
        Assert.Contains("--model rnn", r.Err);
        r = Run("rna", "train", "--train", bp, "--model", "scnn", "--out", model, "--size", "small", "--max-steps", "1");
        Assert.Equal(1, r.Code);
        Assert.Contains("--resume", r.Err);
        r = Run("rna", "predict", "--model", model, "--seq", "ACGU", "--fasta", fasta);
        Assert.Equal(1, r.Code);
        Assert.Contains("exactly one", r.Err);
        Assert.True(File.Exists(train));
    }
}
