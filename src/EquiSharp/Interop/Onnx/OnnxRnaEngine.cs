using EquiSharp.Applications.Rna;
using EquiSharp.Applications.Rna.Formats;
using EquiSharp.Applications.Rna.Inference;

namespace EquiSharp.Interop.Onnx;

/// <summary>
/// <c>rna predict --engine onnx</c>: an exported RNA model in ONNX Runtime. The whole L×L map is one dense graph run
/// (a graph cannot tile), so memory grows with L²; decoding stays in EquiSharp, as with the TorchSharp engine.
/// </summary>
public sealed class OnnxRnaEngine : IRnaPairEngine
{
    private readonly OnnxModelRunner runner;

    /// <param name="path">A .onnx file written by <c>equisharp export onnx</c> from an RNA model.</param>
    /// <param name="threads">Intra-op threads (0 = one per core).</param>
    public OnnxRnaEngine(string path, int threads = 0)
    {
        runner = new OnnxModelRunner(path, threads);
        if (!runner.InputNames.Contains("onehot") || !runner.Metadata.TryGetValue("model_kind", out var kind) || !kind.StartsWith("Rna", StringComparison.Ordinal))
        {
            runner.Dispose();
            throw new InvalidDataException($"{path}: not an RNA model exported by EquiSharp (expected input 'onehot' and metadata model_kind RnaScnn or RnaCnn).");
        }
        Symmetric = kind == "RnaScnn";
        Description = $"ONNX Runtime, {kind} from {path}";
    }

    public string Description { get; }
    public bool Symmetric { get; }

    public float[] Probabilities(string sequence) =>
        runner.Run(PairNetworkOnnx.Probabilities, ("onehot", OneHot(sequence), new[] { 1, sequence.Length, RnaFeatures.Classes })).Values;

    /// <summary>The (1, L, 5) one-hot encoding the exported graph takes, row-major (EquiSharp's base order A, C, G, U, other).</summary>
    public static float[] OneHot(string sequence)
    {
        var x = new float[sequence.Length * RnaFeatures.Classes];
        for (int i = 0; i < sequence.Length; i++) x[i * RnaFeatures.Classes + RnaStructure.BaseIndex(sequence[i])] = 1f;
        return x;
    }

    public void Dispose() => runner.Dispose();
}
