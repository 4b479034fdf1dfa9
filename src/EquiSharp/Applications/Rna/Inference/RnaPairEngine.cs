using EquiSharp.Applications.Rna.Models;
using EquiSharp.Layers.Pairwise.Network;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Inference;

/// <summary>
/// What computes a sequence's full-length pair probabilities for <c>rna predict</c>: the TorchSharp model with tiled
/// inference (<see cref="TorchSharpRnaEngine"/>) or an exported graph in another runtime. Decoding stays with the caller.
/// </summary>
public interface IRnaPairEngine : IDisposable
{
    /// <summary>One line: what runs and from where (e.g. "TorchSharp, SCNN from best/").</summary>
    string Description { get; }
    /// <summary>True when the map is symmetric by construction (SCNN); a plain CNN's map is mirrored before decoding.</summary>
    bool Symmetric { get; }
    /// <summary>Pair probabilities of one sequence, row-major L×L.</summary>
    float[] Probabilities(string sequence);
}

/// <summary>The TorchSharp engine: a trained model directory (or the bundled model), run full-length by tiled inference.</summary>
public sealed class TorchSharpRnaEngine : IRnaPairEngine
{
    private readonly RnaPairModel model;
    private readonly Device device;
    private readonly TiledInferenceOptions tiles;

    public TorchSharpRnaEngine(RnaPairModel model, Device device, TiledInferenceOptions tiles, string source)
    {
        this.model = model; this.device = device; this.tiles = tiles;
        Description = $"TorchSharp, {(model.Symmetric ? "SCNN" : "CNN")} from {source}";
    }

    /// <summary>Loads a model directory written by <c>rna train</c> (best weights, else the latest), or the bundled model (<see cref="BundledRnaModel"/>) when <paramref name="modelDir"/> is null.</summary>
    public static TorchSharpRnaEngine Load(string? modelDir, Device device, TiledInferenceOptions tiles)
    {
        var (model, _, weights) = BundledRnaModel.LoadOrDefault(modelDir, device);
        return new TorchSharpRnaEngine(model, device, tiles, weights);
    }

    public string Description { get; }
    public bool Symmetric => model.Symmetric;
    public float[] Probabilities(string sequence) => model.TiledProbabilities(sequence, device, tiles);
    public void Dispose() => model.Dispose();
}
