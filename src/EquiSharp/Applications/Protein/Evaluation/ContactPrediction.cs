using System.Globalization;
using System.Text;
using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Metrics;
using EquiSharp.Applications.Protein.Models;
using EquiSharp.Applications.Protein.Training;
using EquiSharp.Layers.Pairwise.Network;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Protein.Evaluation;

/// <summary>One protein scored against both contact definitions (Cβ, the training labels, and the paper's Cα).</summary>
public sealed record ProteinContactResult(string Name, int ChainLength, ContactScores Beta, ContactScores Alpha);

/// <summary>Per-protein means of the headline metrics (NaN values, e.g. no long-range pair, are left out of a mean).</summary>
public sealed record ContactSummary(int Count, double TopL5Long, double TopL2Long, double TopLLong, double Ppv, double Sensitivity, double Accuracy)
{
    /// <summary>Means over proteins of one label set.</summary>
    public static ContactSummary Of(IReadOnlyList<ContactScores> scores)
    {
        double Mean(Func<ContactScores, double> f) => scores.Select(f).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
        return new ContactSummary(scores.Count, Mean(s => s.TopL5Long), Mean(s => s.TopL2Long), Mean(s => s.TopPrecision["top_l_long"]),
            Mean(s => s.Thresholded.Ppv), Mean(s => s.Thresholded.Sensitivity), Mean(s => s.Thresholded.Accuracy));
    }

    /// <summary>The last line of <c>protein eval</c>: <c>mean top_l5_long=… top_l2_long=… ppv=… sen=… acc=… n=…</c>.</summary>
    public string MeanLine(string prefix = "mean") => string.Create(CultureInfo.InvariantCulture,
        $"{prefix} top_l5_long={TopL5Long:0.0000} top_l2_long={TopL2Long:0.0000} ppv={Ppv:0.0000} sen={Sensitivity:0.0000} acc={Accuracy:0.0000} n={Count}");

    /// <summary>Selection metrics for training histories.</summary>
    public Dictionary<string, double> ToMetrics() => new()
    {
        ["top_l5_long"] = TopL5Long, ["top_l2_long"] = TopL2Long, ["top_l_long"] = TopLLong,
        ["ppv"] = Ppv, ["sen"] = Sensitivity, ["acc"] = Accuracy,
    };
}

/// <summary>
/// Full-length contact prediction and scoring, shared by training (dev), <c>protein eval</c> and <c>protein predict</c>.
/// Prediction runs the whole chain at once by tiled inference (<see cref="TiledPairInference"/>, eval mode), never
/// on crops. A plain CNN is trained on the upper triangle only, so its map is the upper triangle mirrored
/// (<see cref="PairMapPolicy.DecodingMap"/>); the SCNN's map is symmetric as computed.
/// </summary>
public static class ContactPrediction
{
    /// <summary>Contact probabilities of one protein, L × L row-major.</summary>
    public static float[] Probabilities(ContactModel model, ContactExample example, Device device, TiledInferenceOptions? options = null)
    {
        using var scope = NewDisposeScope();
        var batch = example.Whole(device);
        var logits = model.TiledLogits(batch.Features, batch.PairFeatures, options);
        var p = nn.functional.sigmoid(logits).cpu().data<float>().ToArray();
        return PairMapPolicy.DecodingMap(model.Symmetric, p, example.Length);
    }

    /// <summary>
    /// The network's own output map of one protein, L × L row-major, as computed (no mirroring, untiled): for the SCNN
    /// symmetric by construction, for the CNN with its unsupervised lower triangle — what the paper's Fig. 2 compares.
    /// </summary>
    public static float[] OutputMap(ContactModel model, ContactExample example, Device device)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = example.Whole(device);
        return nn.functional.sigmoid(model.Logits(batch.Features, batch.PairFeatures, batch.Lengths)).cpu().data<float>().ToArray();
    }

    /// <summary>max |P[i,j] − P[j,i]| of an L × L map.</summary>
    public static double MaxAsymmetry(float[] map, int length)
    {
        double max = 0;
        for (int i = 0; i < length; i++)
            for (int j = i + 1; j < length; j++)
                max = Math.Max(max, Math.Abs(map[i * length + j] - map[j * length + i]));
        return max;
    }

    /// <summary>Scores a map of one protein against its Cβ and Cα contacts under each one's residue mask.</summary>
    public static ProteinContactResult Score(ProteinFeatures protein, float[] scores) => new(protein.Name, protein.Length,
        ContactEvaluation.Evaluate(scores, protein.Contacts(ContactAtom.Beta), protein.EvaluationMask(ContactAtom.Beta)),
        ContactEvaluation.Evaluate(scores, protein.Contacts(ContactAtom.Alpha), protein.EvaluationMask(ContactAtom.Alpha)));

    /// <summary>Predicts and scores every example.</summary>
    public static List<ProteinContactResult> Evaluate(ContactModel model, IEnumerable<ContactExample> examples, Device device,
        TiledInferenceOptions? options = null, Action<ProteinContactResult>? onProtein = null) =>
        examples.Select(e =>
        {
            var r = Score(e.Protein, Probabilities(model, e, device, options));
            onProtein?.Invoke(r);
            return r;
        }).ToList();

    /// <summary>Header of the per-protein table.</summary>
    public static string Header =>
        "protein\tL_chain\tL_cb\ttop_l5_long\ttop_l2_long\ttop_l_long\tppv\tsen\tacc\tca_top_l5_long\tca_top_l2_long\tca_ppv\tca_sen\tca_acc";

    /// <summary>One table row: Cβ metrics, then Cα metrics.</summary>
    public static string Row(ProteinContactResult r)
    {
        var (b, a) = (r.Beta, r.Alpha);
        return string.Create(CultureInfo.InvariantCulture,
            $"{r.Name}\t{r.ChainLength}\t{b.Length}\t{b.TopL5Long:0.0000}\t{b.TopL2Long:0.0000}\t{b.TopPrecision["top_l_long"]:0.0000}\t{b.Thresholded.Ppv:0.0000}\t{b.Thresholded.Sensitivity:0.0000}\t{b.Thresholded.Accuracy:0.0000}\t{a.TopL5Long:0.0000}\t{a.TopL2Long:0.0000}\t{a.Thresholded.Ppv:0.0000}\t{a.Thresholded.Sensitivity:0.0000}\t{a.Thresholded.Accuracy:0.0000}");
    }

    /// <summary>
    /// The report of an evaluation: the per-protein table, the Cα mean line, and last the Cβ mean line
    /// (<see cref="ContactSummary.MeanLine"/>), which scripts parse.
    /// </summary>
    public static string Report(IReadOnlyList<ProteinContactResult> results)
    {
        var sb = new StringBuilder();
        sb.Append(Header).Append('\n');
        foreach (var r in results) sb.Append(Row(r)).Append('\n');
        sb.Append(ContactSummary.Of(results.Select(r => r.Alpha).ToList()).MeanLine("mean_ca")).Append('\n');
        sb.Append(ContactSummary.Of(results.Select(r => r.Beta).ToList()).MeanLine()).Append('\n');
        return sb.ToString();
    }
}
