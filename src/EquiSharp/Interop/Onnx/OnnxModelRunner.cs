using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EquiSharp.Interop.Onnx;

/// <summary>An exported .onnx file in ONNX Runtime (CPU): float inputs in, one named float output back, row-major.</summary>
public sealed class OnnxModelRunner : IDisposable
{
    private readonly InferenceSession session;

    /// <param name="path">The .onnx file.</param>
    /// <param name="threads">Intra-op threads (0 = ONNX Runtime's default, one per core).</param>
    public OnnxModelRunner(string path, int threads = 0)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such ONNX file.", path);
        // no CPU arena: its blocks are sized for the first shapes seen and kept, so with a new length per sequence the peak
        // varied by 60% between identical runs (L = 1,000: 985 vs 1,607 MB); without it the peak is the graph's own
        using var options = new SessionOptions { IntraOpNumThreads = threads, EnableCpuMemArena = false };
        try { session = new InferenceSession(path, options); }
        catch (OnnxRuntimeException e) { throw new InvalidDataException($"{path}: ONNX Runtime cannot load it ({e.Message.Split('\n')[0]}).", e); }
    }

    /// <summary>The model's <c>metadata_props</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata => session.ModelMetadata.CustomMetadataMap;

    /// <summary>Names of the graph's inputs.</summary>
    public IReadOnlyList<string> InputNames => session.InputNames;

    /// <summary>Runs the graph and returns output <paramref name="output"/> flattened, with its shape.</summary>
    public (float[] Values, int[] Shape) Run(string output, params (string Name, float[] Values, int[] Shape)[] inputs)
    {
        var feeds = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(i.Values, i.Shape))).ToList();
        using var results = session.Run(feeds, new[] { output });
        var tensor = results.First().AsTensor<float>();
        return (tensor.ToArray(), tensor.Dimensions.ToArray());
    }

    public void Dispose() => session.Dispose();
}
