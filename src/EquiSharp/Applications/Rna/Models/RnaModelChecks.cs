using EquiSharp.Layers.Pairwise;
using EquiSharp.Applications.Rna.Synthetic;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Models;

/// <summary>
/// Exactness of the configuration <c>rna train</c> runs by default: the paper-size SCNN (13×13 kernels, so reach 6) on
/// packed folded maps, against the same network on dense maps.
/// </summary>
[CheckFamily(Order = 5)]
public static class RnaModelChecks
{
    /// <summary>The compared blocks: logits, then the loss gradients of tied kernels θ, batch-norm γ and β, and the BiLSTM and dense layer.</summary>
    public static readonly string[] Blocks = { "logits", "θ", "γ", "β", "lstm/dense" };

    public static IEnumerable<EquivarianceCheck> All() =>
        EquivarianceCheck.PerBlock("rna.scnn paper size, reach 6 (13×13, L=20, padded batch): packed training step equals dense",
            Blocks, () => PackedVersusDense(RnaModelConfig.Paper, maxLength: 20, seed: 7), tolerance: 1e-4)
        .Append(new EquivarianceCheck("rna.scnn paper size: streamed full-length inference (L=150, bands of 48 rows) equals the dense forward",
            () => StreamedVersusDense(length: 150, seed: 7), Tolerance: 1e-4));

    /// <summary>
    /// Relative deviation of <see cref="Layers.Pairwise.Network.StreamedPairInference"/> (what rna predict and rna eval run
    /// at full length) from the dense forward of the paper-size SCNN in eval mode, with batch-norm statistics from one
    /// training-mode forward, on one random sequence.
    /// </summary>
    public static double StreamedVersusDense(int length, int seed)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed);
        using var model = new RnaPairModel(RnaModelConfig.Paper, symmetric: true);
        var x = nn.functional.one_hot(randint(0, 4, new long[] { 1, length }, generator: g), 5).to(ScalarType.Float32);
        using (no_grad()) model.forward(x).Dispose();   // running statistics, so eval batch norm is not the identity
        model.eval();
        using var _ = no_grad();
        var dense = model.forward(x, null)[0];
        return Deviation.Relative(Layers.Pairwise.Network.StreamedPairInference.Logits(model, x)[0], dense);
    }

    /// <summary>
    /// One training-mode forward and backward (batch statistics, length masks) of one SCNN on a padded batch of two
    /// synthetic sequences, once on dense and once on packed maps: (packed, dense) per block of <see cref="Blocks"/>.
    /// Conv biases are left out: each feeds a batch norm that cancels it, so its true gradient is 0 and both paths give
    /// rounding noise. Weights are drawn from <paramref name="seed"/> (the global RNG is not touched after construction).
    /// </summary>
    public static (Tensor Packed, Tensor Dense)[] PackedVersusDense(RnaModelConfig config, int maxLength, int seed)
    {
        var model = new RnaPairModel(config, symmetric: true);
        var g = new Generator((ulong)seed);
        using (no_grad())
            foreach (var m in model.modules())
                switch (m)
                {
                    case SymmetricConv2d conv: conv.ResetParameters(g); break;
                    case PairBatchNorm2d bn: bn.Weight.uniform_(0.5, 1.5, generator: g); bn.Bias.uniform_(-0.3, 0.3, generator: g); break;
                }
        using (no_grad())
            foreach (var (name, p) in model.named_parameters().Where(p => IsSequenceLayer(p.name)))
                p.uniform_(-0.3, 0.3, generator: g);
        model.train();
        var records = SyntheticRna.Generate(2, maxLength - 6, maxLength, seed);
        var t = RnaFeatures.Batch(records, records.Select((r, k) => new RnaWindow(k, 0, r.Length)).ToList());

        (Tensor Logits, Tensor[] Grads) Step(bool packed)
        {
            model.PackedMaps = packed;
            model.zero_grad();
            var logits = model.forward(t.OneHot, t.Lengths);
            PairLoss.UpperTriangleWeightedBce(logits, t.Labels, t.Lengths, positiveWeight: 5).backward();
            var named = model.named_parameters().Where(p => p.parameter.grad is not null).ToList();
            Tensor Block(Func<string, bool> select) => cat(named.Where(p => select(p.name)).Select(p => p.parameter.grad!.flatten()).ToArray());
            return (logits.detach(), new[]
            {
                Block(n => n.EndsWith("theta")),
                Block(n => n.Contains("norm") && n.EndsWith("weight")),
                Block(n => n.Contains("norm") && n.EndsWith("bias")),
                Block(IsSequenceLayer),
            });
        }
        if (model.Reach != 6) throw new InvalidOperationException($"expected reach 6 (13×13 kernels), the model has {model.Reach}.");
        var dense = Step(packed: false);
        var packedRun = Step(packed: true);
        return new[] { (packedRun.Logits, dense.Logits) }.Concat(packedRun.Grads.Zip(dense.Grads)).ToArray();
    }

    private static bool IsSequenceLayer(string parameterName) => parameterName.StartsWith("lstm.") || parameterName.StartsWith("dense.");
}
