using EquiSharp.Applications.Dna.Data;
using EquiSharp.Applications.Dna.Models;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Applications.Dna.Interpretation;

/// <summary>
/// Filter interpretation of §3.5. The contribution of a convolution neuron is (∂ logit / ∂ activation) × activation (a
/// first-order estimate of the logit's change if the activation were set to 0); a filter's score on a sequence is the
/// sum over positions (and, for an RC model, over both its forward and its RC channel); its final score for a task is
/// the mean over positive sequences minus the mean over negatives. Logos: the filter weights of the first convolution,
/// mean-centred per position (output-preserving on one-hot input, §3.5), positive parts drawn scaled next to the
/// planted motif's information-content logo.
/// </summary>
public static class FilterContributions
{
    /// <summary>Scores [task, filter] on the given sequences.</summary>
    public static double[,] Scores(DnaConvNet model, DnaDataSet data, long[] indices, Device device, int batchSize = 500)
    {
        model.eval();
        int tasks = model.Spec.TaskNames.Length, filters = model.Spec.Filters;
        long channels = model.ConvolutionChannels;
        var sum = new double[tasks, 2, filters];
        var count = new long[tasks, 2];
        var labels = data.Labels.index_select(0, torch.tensor(indices)).data<float>().ToArray();
        for (int start = 0; start < indices.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var idx = indices.Skip(start).Take(batchSize).ToArray();
            var map = model.ConvolutionMap(data.OneHot(idx, device)).detach().requires_grad_();
            var logits = model.Head(map);
            for (int t = 0; t < tasks; t++)
            {
                var grad = torch.autograd.grad(new[] { logits[.., t].sum() }, new[] { map }, retain_graph: t + 1 < tasks)[0];
                var perChannel = (grad * map).sum(2);   // (B, channels)
                var perFilter = channels == 2 * filters ? perChannel.narrow(1, 0, filters).add(perChannel.narrow(1, filters, filters).flip(1), KeptScalar.One) : perChannel;
                var values = perFilter.detach().cpu().data<float>().ToArray();
                for (int i = 0; i < idx.Length; i++)
                {
                    int positive = labels[(start + i) * tasks + t] > 0.5f ? 1 : 0;
                    count[t, positive]++;
                    for (int f = 0; f < filters; f++) sum[t, positive, f] += values[i * filters + f];
                }
            }
        }
        var scores = new double[tasks, filters];
        for (int t = 0; t < tasks; t++)
            for (int f = 0; f < filters; f++)
                scores[t, f] = sum[t, 1, f] / Math.Max(1, count[t, 1]) - sum[t, 0, f] / Math.Max(1, count[t, 0]);
        return scores;
    }

    /// <summary>
    /// Logo heights (k × 4) of first-layer filter <paramref name="filter"/>: the weights mean-centred per position (the
    /// output-preserving transformation of §3.5 for one-hot input), their positive parts, scaled so the tallest
    /// position is 2 (the height of a certain base in bits, for drawing next to the planted motif's information logo).
    /// </summary>
    public static double[,] FilterHeights(DnaConvNet model, int filter)
    {
        using var scope = NewDisposeScope();
        var conv = model.named_modules().First(m => m.name == "convolutions.conv0").module;
        var weight = conv switch
        {
            Layers.TiedConvolution tied => tied.Weight(),
            TorchSharp.Modules.Conv1d plain => plain.weight!,
            _ => throw new InvalidOperationException("unexpected first layer"),
        };
        var w = weight.detach()[filter];                       // (4, k)
        var positive = (w - w.mean(new long[] { 0 }, keepdim: true)).clamp_min(KeptScalar.Of(0.0));
        double tallest = Math.Max(positive.sum(dim: 0).max().item<float>(), 1e-12);
        var h = (positive.mul(KeptScalar.Of((2 / tallest)))).t().contiguous().cpu().to(ScalarType.Float64).data<double>().ToArray();
        long k = w.shape[1];
        var result = new double[k, 4];
        for (int i = 0; i < k; i++) for (int b = 0; b < 4; b++) result[i, b] = h[i * 4 + b];
        return result;
    }
}
