using EquiSharp.Applications.Images.Models;
using EquiSharp.Performance;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Images;

/// <summary>
/// The <c>bench allcnn</c> workload: one training step's forward and backward (cross-entropy on random labels, batch
/// norm in training mode, the tied kernels gathered from their free parameters as in training) of All-CNN-C in its Z2,
/// p4 and p4m variants on a batch of random 32×32 colour images, timed side by side (<see cref="SideBySideTimer"/>).
/// The three have about the same number of free parameters, but a p4 (p4m) layer convolves with a filter bank |G| = 4
/// (8) times larger, so the cost ratio to expect is about |G|.
/// </summary>
public static class AllCnnBenchmark
{
    public static readonly IReadOnlyList<string> Models = new[] { "allcnn-z2", "allcnn-p4", "allcnn-p4m" };

    /// <param name="batch">Images per step.</param>
    /// <param name="repeats">Timed rounds (medians are reported).</param>
    /// <param name="warmup">Untimed rounds first.</param>
    /// <param name="device">Where the networks and images live.</param>
    /// <param name="seed">Seed of the parameters, images and labels.</param>
    /// <param name="runDone">Called after every run (progress).</param>
    /// <returns>Timing of a whole step per model, and each model's free parameter count.</returns>
    public static (IReadOnlyDictionary<string, VariantTiming> Timing, IReadOnlyDictionary<string, long> FreeParameters) Run(int batch, int repeats, int warmup,
        Device device, int seed = 1, Action<long>? runDone = null)
    {
        if (batch <= 0) throw new ArgumentException($"--batch must be positive, got {batch}.");
        manual_seed(seed);
        var nets = Models.Select(m => PlanarCnnSpec.Preset(m).Build(device)).ToList();
        try
        {
            using var images = rand(new long[] { batch, 3, 32, 32 }, device: device);
            using var labels = randint(10, new long[] { batch }, device: device);
            var variants = nets.Select(net => (net.Spec.Model, (Action)(() =>
            {
                using var scope = NewDisposeScope();
                net.train();
                net.zero_grad();
                nn.functional.cross_entropy(net.forward(images), labels).backward();
            }))).ToList();
            var timing = SideBySideTimer.Run(variants, repeats, warmup, device, runDone);
            return (timing, nets.ToDictionary(n => n.Spec.Model, n => n.FreeParameterCount));
        }
        finally
        {
            foreach (var n in nets) n.Dispose();
        }
    }
}
