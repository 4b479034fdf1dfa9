using EquiSharp.Applications.Images.Formats;
using EquiSharp.Layers.Group;
using EquiSharp.Metrics;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Images;

/// <summary>Accuracy, confusion matrix and, optionally, how far the class scores move under the group.</summary>
public sealed record ImageEvalResult(ConfusionMatrix Confusion, double MeanLoss, double? MaxLogitDeviation)
{
    public double Accuracy => Confusion.Accuracy;
}

/// <summary>Labelled images as tensors, and the evaluation of a classifier on them.</summary>
public static class ImageEvaluation
{
    /// <summary>Images (N, channels, side, side) and labels (N) on <paramref name="device"/>.</summary>
    public static (Tensor Images, Tensor Labels) ToTensors(LabelledImages set, Device device)
    {
        var x = tensor(set.Pixels, new long[] { set.Count, set.Channels, set.Side, set.Side }).to(device);
        var y = tensor(set.Labels.Select(l => (long)l).ToArray()).to(device);
        return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    /// <summary>
    /// Evaluates in eval mode, batch by batch. With <paramref name="transformGroup"/>, also returns the largest
    /// |logit(x) − logit(L_u x)| over all images, classes and non-identity elements u of that group (the four
    /// rotations by 90° for p4, and their mirror images for p4m): 0 up to float rounding for an invariant model.
    /// </summary>
    public static ImageEvalResult Evaluate(nn.Module<Tensor, Tensor> model, LabelledImages set, Device device, int batchSize = 500,
        PlanarGroup? transformGroup = null, int classes = 10)
    {
        bool wasTraining = model.training;
        model.eval();
        var confusion = new ConfusionMatrix(classes);
        double lossSum = 0, deviation = 0;
        try
        {
            using var _ = no_grad();
            var (images, labels) = ToTensors(set, device);
            using (images)
            using (labels)
                for (long start = 0; start < set.Count; start += batchSize)
                {
                    using var scope = NewDisposeScope();
                    long n = Math.Min(batchSize, set.Count - start);
                    var x = images.narrow(0, start, n);
                    var y = labels.narrow(0, start, n);
                    var logits = model.forward(x);
                    lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
                    var predicted = logits.argmax(1).cpu().data<long>().Select(v => (int)v).ToArray();
                    confusion.AddRange(y.cpu().data<long>().Select(v => (int)v).ToArray(), predicted);
                    if (transformGroup is not null)
                        for (int u = 1; u < transformGroup.Order; u++)
                            deviation = Math.Max(deviation, (model.forward(transformGroup.TransformImage(x, u)) - logits).abs().max().item<float>());
                }
        }
        finally { model.train(wasTraining); }
        return new ImageEvalResult(confusion, lossSum / Math.Max(1, set.Count), transformGroup is null ? null : deviation);
    }
}
