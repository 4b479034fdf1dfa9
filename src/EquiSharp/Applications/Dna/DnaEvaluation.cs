using System.Globalization;
using EquiSharp.Applications.Dna.Data;
using EquiSharp.Applications.Dna.Models;
using EquiSharp.Layers.ReverseComplement;
using EquiSharp.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Dna;

/// <summary>auROC and auPRC per task and their means over tasks.</summary>
public sealed record DnaScores(string[] TaskNames, double[] AuRoc, double[] AuPrc)
{
    public double MeanAuRoc => AuRoc.Average();
    public double MeanAuPrc => AuPrc.Average();

    /// <summary>Metrics for the training history: "auroc", "auprc" (means) and per task "auroc_TASK", "auprc_TASK".</summary>
    public Dictionary<string, double> AsMetrics()
    {
        var m = new Dictionary<string, double> { ["auroc"] = MeanAuRoc, ["auprc"] = MeanAuPrc };
        if (TaskNames.Length > 1)
            for (int t = 0; t < TaskNames.Length; t++) { m[$"auroc_{TaskNames[t]}"] = AuRoc[t]; m[$"auprc_{TaskNames[t]}"] = AuPrc[t]; }
        return m;
    }

    public IEnumerable<string> Table()
    {
        yield return $"{"task",-20} {"auroc",7} {"auprc",7}";
        for (int t = 0; t < TaskNames.Length; t++)
            yield return string.Create(CultureInfo.InvariantCulture, $"{TaskNames[t],-20} {AuRoc[t],7:0.0000} {AuPrc[t],7:0.0000}");
        yield return string.Create(CultureInfo.InvariantCulture, $"{"mean",-20} {MeanAuRoc,7:0.0000} {MeanAuPrc,7:0.0000}");
    }
}

/// <summary>Prediction and scoring of a DNA model on a set of sequences.</summary>
public static class DnaEvaluation
{
    /// <summary>Predicted probabilities (N, tasks) in eval mode, in batches; on the reverse complements when <paramref name="reverseComplement"/>.</summary>
    public static float[,] Predict(DnaConvNet model, Tensor codes, Device device, bool reverseComplement = false, int batchSize = 1000)
    {
        bool wasTraining = model.training;
        model.eval();
        long n = codes.shape[0];
        int tasks = model.Spec.TaskNames.Length;
        var result = new float[n, tasks];
        using (no_grad())
            for (long start = 0; start < n; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var x = DnaDataSet.OneHotOf(codes.narrow(0, start, Math.Min(batchSize, n - start)), device);
                if (reverseComplement) x = ReverseComplementTies.Apply(x);
                var p = sigmoid(model.forward(x)).cpu().data<float>().ToArray();
                for (int i = 0; i < p.Length / tasks; i++) for (int t = 0; t < tasks; t++) result[start + i, t] = p[i * tasks + t];
            }
        model.train(wasTraining);
        return result;
    }

    /// <summary>auROC and auPRC of the model on the given sequences of a data set.</summary>
    public static DnaScores Score(DnaConvNet model, DnaDataSet data, long[] indices, Device device)
    {
        if (!data.TaskNames.SequenceEqual(model.Spec.TaskNames))
            throw new ArgumentException($"the model predicts tasks [{string.Join(", ", model.Spec.TaskNames)}], the data has [{string.Join(", ", data.TaskNames)}].");
        if (data.SequenceLength != model.Spec.SequenceLength)
            throw new ArgumentException($"the model takes sequences of length {model.Spec.SequenceLength}, the data has length {data.SequenceLength}.");
        using var sel = torch.tensor(indices);
        using var codes = data.Codes.index_select(0, sel);
        var p = Predict(model, codes, device);
        var labels = data.Labels.index_select(0, sel).data<float>().ToArray();
        int tasks = data.TaskNames.Length;
        var auroc = new double[tasks];
        var auprc = new double[tasks];
        for (int t = 0; t < tasks; t++)
        {
            var s = Enumerable.Range(0, indices.Length).Select(i => (double)p[i, t]).ToArray();
            var l = Enumerable.Range(0, indices.Length).Select(i => labels[i * tasks + t] > 0.5f).ToArray();
            auroc[t] = BinaryClassificationMetrics.AuRoc(s, l);
            auprc[t] = BinaryClassificationMetrics.AveragePrecision(s, l);
        }
        return new DnaScores(data.TaskNames, auroc, auprc);
    }

    /// <summary>max over sequences and tasks of |p(x) − p(rc(x))| (0 for an exactly RC-invariant model; §2, Fig. 4).</summary>
    public static double MaxReverseComplementGap(DnaConvNet model, Tensor codes, Device device)
    {
        var forward = Predict(model, codes, device);
        var reverse = Predict(model, codes, device, reverseComplement: true);
        double gap = 0;
        for (int i = 0; i < forward.GetLength(0); i++) for (int t = 0; t < forward.GetLength(1); t++) gap = Math.Max(gap, Math.Abs(forward[i, t] - reverse[i, t]));
        return gap;
    }
}
