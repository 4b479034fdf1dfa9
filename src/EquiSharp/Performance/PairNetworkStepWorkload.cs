using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Training;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Performance;

/// <summary>
/// One training step of the paper's RNA pair network (<see cref="PairNetworkSpec.PaperStages"/>, BiLSTM 75, dense 15,
/// encoder 40, skip 20, 3×3 head; the spec <c>rna train</c> builds) on synthetic data: a random one-hot batch (B, L, 5)
/// with every sequence L long (full crops, as training windows of long records are) and a random symmetric pairing,
/// the weighted upper-triangle BCE (<see cref="PairLoss.UpperTriangleWeightedBce"/>, positive weight 5), backward and
/// an Adam step (lr 2e-3, weight decay 1e-5) — what <c>rna train</c> does per step, without data reading.
/// </summary>
public sealed class PairNetworkStepWorkload
{
    /// <summary>The variants <c>bench rna-step</c> compares.</summary>
    public static readonly IReadOnlyList<string> Variants = new[] { "scnn_packed", "scnn_dense", "cnn" };

    private readonly Tensor onehot, labels, lengths;
    private readonly TorchSharp.Modules.OptimizerHelper optimizer;

    /// <summary>The network being trained.</summary>
    public PairNetwork Network { get; }

    /// <param name="variant">scnn_packed, scnn_dense or cnn.</param>
    /// <param name="crop">L: side of the maps.</param>
    /// <param name="batch">B: sequences per step.</param>
    /// <param name="device">Device of parameters and data.</param>
    /// <param name="seed">Seed of parameters and data.</param>
    public PairNetworkStepWorkload(string variant, int crop, int batch, Device device, int seed = 1)
    {
        if (!Variants.Contains(variant)) throw new ArgumentException($"unknown variant '{variant}' (expected {string.Join(", ", Variants)}).");
        if (crop < 1 || batch < 1) throw new ArgumentException($"--crop and --batch must be positive, got {crop} and {batch}.");
        manual_seed(seed);
        Network = new PairNetwork(variant == "cnn" ? "RnaCnn" : "RnaScnn", PaperSpec(symmetric: variant != "cnn"), device)
        { PackedMaps = variant == "scnn_packed" };
        var rng = new Random(seed);
        var x = new float[batch * crop * 5];
        var y = new float[batch * crop * crop];
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < crop; i++) x[(b * crop + i) * 5 + rng.Next(4)] = 1f;
            for (int i = 0; i + 4 < crop; i += 7) // a sprinkling of pairs, mirrored (labels are symmetric)
            {
                int j = rng.Next(i + 4, crop);
                y[(b * (long)crop + i) * crop + j] = y[(b * (long)crop + j) * crop + i] = 1f;
            }
        }
        onehot = tensor(x, new long[] { batch, crop, 5 }, device: device);
        labels = tensor(y, new long[] { batch, crop, crop }, device: device);
        lengths = full(batch, KeptScalar.Of(crop), dtype: int64, device: device);
        optimizer = Optimizers.Adam(Network.parameters(), 2e-3, weightDecay: 1e-5); // the optimizer rna train builds
        Network.train();
    }

    /// <summary>The RNA paper network's spec (the one <c>RnaPairModel.NetworkSpec(RnaModelConfig.Paper, …)</c> gives).</summary>
    public static PairNetworkSpec PaperSpec(bool symmetric) => new()
    {
        InputFeatures = 5, LstmUnits = 75, DenseFeatures = 15, EncoderChannels = 40, Stages = PairNetworkSpec.PaperStages,
        SkipChannels = 20, FinalKernel = 3, OutChannels = 1, Activation = PairActivation.ReLU, Symmetric = symmetric,
    };

    /// <summary>The step's loss (forward only, for profiling its parts).</summary>
    public Tensor Loss() =>
        PairLoss.UpperTriangleWeightedBce(Network.forward(onehot, null, lengths).squeeze(1), labels, lengths, 5);

    /// <summary>The synthetic batch: one-hot (B, L, 5), labels (B, L, L), lengths (B).</summary>
    public (Tensor OneHot, Tensor Labels, Tensor Lengths) Inputs => (onehot, labels, lengths);

    /// <summary>An Adam step with the gradients as they are (for profiling the optimizer alone).</summary>
    public void OptimizerStep()
    {
        using var scope = NewDisposeScope();
        optimizer.step();
    }

    /// <summary>One training step; returns the loss.</summary>
    public double Step()
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = Loss();
        loss.backward();
        optimizer.step();
        return loss.item<float>();
    }
}
