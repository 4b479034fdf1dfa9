using System.Diagnostics;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Layers.Pairwise.Packed;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Performance;

/// <summary>
/// One row of a step profile: a part of the step, its forward and backward wall time and its process CPU time (forward +
/// backward), medians in seconds. On a machine shared with other work the CPU time is the steadier measure of the work.
/// </summary>
public sealed record StepPart(string Name, double ForwardSeconds, double BackwardSeconds, double CpuSeconds)
{
    public double TotalSeconds => ForwardSeconds + BackwardSeconds;
}

/// <summary>
/// Where a training step of <see cref="PairNetworkStepWorkload"/> spends its time, part by part. Each part (sequence
/// features = BiLSTM + dense, encoder, each stage's convolutions and its batch norm + activation, skip encoder, concat,
/// head + unpack, loss, Adam step) runs alone on its real input (computed once by the parts before it, then detached
/// into a leaf that requires a gradient), forward timed, then backward from a random upstream gradient timed; medians
/// over the repeats. The parts are the network's own modules and the same packed or dense functions its forward calls,
/// so the rows add up to about a whole step (the last row), the difference being what runs between the parts.
/// </summary>
public static class PairNetworkStepProfile
{
    private static double Cpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <param name="work">The workload (its network decides packed or dense).</param>
    /// <param name="repeats">Timed repeats of each part (after one warm-up).</param>
    public static IReadOnlyList<StepPart> Run(PairNetworkStepWorkload work, int repeats)
    {
        var net = work.Network;
        var rows = new List<StepPart>();
        var (onehot, labels, lengths) = work.Inputs;
        long l = onehot.shape[1];
        using var keep = NewDisposeScope();

        StepPart Time(string name, Func<Tensor> forward, Tensor? upstream = null)
        {
            var fw = new List<double>();
            var bw = new List<double>();
            var cpu = new List<double>();
            for (int r = 0; r <= repeats; r++)
            {
                using var scope = NewDisposeScope();
                net.zero_grad();
                var c0 = Cpu();
                var sw = Stopwatch.StartNew();
                var y = forward();
                double f = sw.Elapsed.TotalSeconds;
                var g = upstream ?? (y.numel() == 1 ? ones_like(y) : randn_like(y));
                sw.Restart();
                y.backward(new[] { g });
                double b = sw.Elapsed.TotalSeconds;
                if (r > 0) { fw.Add(f); bw.Add(b); cpu.Add(Cpu() - c0); }
            }
            var part = new StepPart(name, SideBySideTimer.Median(fw), SideBySideTimer.Median(bw), SideBySideTimer.Median(cpu));
            rows.Add(part);
            return part;
        }

        static Tensor Leaf(Tensor t) => t.detach().requires_grad_(true);
        static PackedSymmetricMap LeafMap(PackedSymmetricMap m) => m.With(m.Data.detach().requires_grad_(true), m.PendingRelu, m.HaloFilled);

        Time("sequence features (BiLSTM, dense)", () => net.SequenceFeatures(onehot, lengths));
        Tensor features;
        using (no_grad()) features = net.SequenceFeatures(onehot, lengths);
        var stages = net.Stages;
        if (net.PackedMaps)
        {
            var layout = PackedLayout.Default(l, net.Reach);
            var mask = PackedSymmetricMap.BlockMask(layout, lengths, onehot.dtype);
            var f = Leaf(features);
            Time("encoder (separable generating, packed BN)", () => net.Encoder.ForwardPacked(f, lengths, layout, mask).Materialized());
            PackedSymmetricMap y;
            using (no_grad()) y = net.Encoder.ForwardPacked(features, lengths, layout, mask);
            for (int k = 0; k < stages.Count; k++)
            {
                var stage = stages[k];
                var x = LeafMap(y);
                var convs = stage.Branches.Cast<SymmetryPreservingConv2d>().ToList();
                Time($"stage {k + 1} convolutions ({string.Join("/", convs.Select(c => c.KernelSize))}, {stage.AlgorithmInUse})", () => stage.ConvolvePacked(x).Data);
                PackedSymmetricMap z;
                using (no_grad()) z = stage.ConvolvePacked(x);
                var zl = LeafMap(z);
                Time($"stage {k + 1} packed BN + ReLU", () => PairConvStage.NormAndActivate(zl, stage.Norm, stage.Activation, mask).Materialized());
                using (no_grad()) y = stage.ForwardPacked(y, mask);
            }
            PackedSymmetricMap s;
            Time("skip encoder (separable, packed BN)", () => net.Skip!.ForwardPacked(onehot, lengths, layout, mask).Materialized());
            using (no_grad()) s = net.Skip!.ForwardPacked(onehot, lengths, layout, mask);
            var yl = LeafMap(y);
            var sl = LeafMap(s);
            Time("concat", () => PackedSymmetricMap.Concat(yl, sl).Materialized());
            var cl = LeafMap(PackedSymmetricMap.Concat(y, s));
            Time("head (3×3 conv, BN) + unpack", () => net.Head.ForwardPacked(cl, mask).Unpack().squeeze(1));
        }
        else
        {
            var mask = PairMask.FromLengths(lengths, l, onehot.dtype);
            var f = Leaf(features);
            Time("encoder (generating conv, BN)", () => net.Encoder.forward(f, lengths));
            Tensor y;
            using (no_grad()) y = net.Encoder.forward(features, lengths);
            for (int k = 0; k < stages.Count; k++)
            {
                var stage = stages[k];
                var x = Leaf(y);
                Time($"stage {k + 1} convolutions ({stage.AlgorithmInUse})", () => stage.Convolve(x));
                Tensor z;
                using (no_grad()) z = stage.Convolve(x);
                var zl = Leaf(z);
                Time($"stage {k + 1} BN + ReLU", () => PairConvStage.NormAndActivate(zl, stage.Norm, stage.Activation, mask));
                using (no_grad()) y = stage.forward(y, mask);
            }
            Tensor s;
            Time("skip encoder", () => net.Skip!.forward(onehot, lengths));
            using (no_grad()) s = net.Skip!.forward(onehot, lengths);
            var yl = Leaf(y);
            var sl = Leaf(s);
            Time("concat", () => cat(new[] { yl, sl }, 1));
            var cl = Leaf(cat(new[] { y, s }, 1));
            Time("head (3×3 conv, BN)", () => net.Head.forward(cl, mask).squeeze(1));
        }
        Tensor logits;
        using (no_grad()) logits = net.forward(onehot, null, lengths).squeeze(1);
        var ll = Leaf(logits);
        Time("loss (weighted BCE, upper triangle)", () => PairLoss.UpperTriangleWeightedBce(ll, labels, lengths, 5));

        var opt = new List<double>();
        var whole = new List<double>();
        var optCpu = new List<double>();
        var wholeCpu = new List<double>();
        for (int r = 0; r <= repeats; r++)
        {
            var c0 = Cpu();
            var sw = Stopwatch.StartNew();
            work.Step();
            double t = sw.Elapsed.TotalSeconds, c = Cpu() - c0;
            sw.Restart();
            work.OptimizerStep();
            if (r > 0) { whole.Add(t); wholeCpu.Add(c); opt.Add(sw.Elapsed.TotalSeconds); optCpu.Add(Cpu() - c0 - c); }
        }
        rows.Add(new StepPart("Adam step", SideBySideTimer.Median(opt), 0, SideBySideTimer.Median(optCpu)));
        rows.Add(new StepPart("sum of the parts", rows.Sum(p => p.ForwardSeconds), rows.Sum(p => p.BackwardSeconds), rows.Sum(p => p.CpuSeconds)));
        rows.Add(new StepPart("whole step (timed as one)", SideBySideTimer.Median(whole), 0, SideBySideTimer.Median(wholeCpu)));
        return rows;
    }
}
