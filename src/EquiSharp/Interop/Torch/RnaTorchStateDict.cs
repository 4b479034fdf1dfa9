using EquiSharp.Applications.Rna.Models;
using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Interop.Torch;

/// <summary>How a dense state dict landed in the tied model: per layer, the relative distance of the dense weight from the tied space.</summary>
/// <param name="Residuals">(state-dict name, ‖W − B·θ‖ / ‖W‖ after the least-squares projection); 0 for untied layers.</param>
public sealed record DenseImportReport(IReadOnlyList<(string Name, double Residual)> Residuals)
{
    /// <summary>The largest residual (0 when every dense weight already had the tying).</summary>
    public double MaxResidual => Residuals.Count == 0 ? 0 : Residuals.Max(r => r.Residual);
}

/// <summary>
/// The RNA pair model's dense weights under the names of the plain PyTorch module <c>RnaDense</c> (the SCNN authors'
/// network written with dense 2-D convolutions: <c>lstm</c>, <c>dense</c>, blocks <c>g</c> (encoder), <c>b1</c>…
/// (stages), <c>g0</c> (skip), <c>out</c> and <c>bn</c> (head), each block <c>convs.k</c> + <c>bn</c>), so
/// <c>model.load_state_dict(...)</c> works there; and back: a dense state dict loaded into the tied model, each tied
/// kernel set to its least-squares projection onto the tied space (<see cref="EquiSharp.Symmetry.TiedWeight.LoadFromDense"/>).
/// </summary>
public static class RnaTorchStateDict
{
    /// <summary>The dense state dict (new CPU tensors; dispose them when done).</summary>
    public static Dictionary<string, Tensor> Export(RnaPairModel model)
    {
        var state = new Dictionary<string, Tensor>();
        using var grad = no_grad();
        foreach (var (prefix, module) in Layers(model))
            switch (module)
            {
                case LSTM or Linear:
                    foreach (var (name, p) in module.named_parameters()) state[$"{prefix}.{name}"] = p.detach().cpu().clone();
                    break;
                case TiedConvolution tied:
                    state[$"{prefix}.weight"] = tied.TiedKernel.Materialize().detach().cpu().clone();
                    if (tied.BiasVector() is Tensor b) state[$"{prefix}.bias"] = b.detach().cpu().clone();
                    break;
                case Conv2d conv:
                    state[$"{prefix}.weight"] = conv.weight!.detach().cpu().clone();
                    if (conv.bias is not null) state[$"{prefix}.bias"] = conv.bias.detach().cpu().clone();
                    break;
                case PairBatchNorm2d bn:
                    state[$"{prefix}.weight"] = bn.Weight.detach().cpu().clone();
                    state[$"{prefix}.bias"] = bn.Bias.detach().cpu().clone();
                    state[$"{prefix}.running_mean"] = bn.RunningMean.cpu().clone();
                    state[$"{prefix}.running_var"] = bn.RunningVar.cpu().clone();
                    state[$"{prefix}.num_batches_tracked"] = tensor(0L);   // PyTorch's BatchNorm2d has it; unused with a fixed momentum
                    break;
            }
        return state;
    }

    /// <summary>
    /// Loads a dense state dict (RnaDense names) into <paramref name="model"/>: untied values are copied, tied kernels
    /// projected. Every name the model needs must be present with its shape; names it does not use are refused.
    /// </summary>
    /// <param name="model">The target model (its architecture must match the state dict's).</param>
    /// <param name="state">Name → tensor.</param>
    /// <param name="source">The file it came from, for messages.</param>
    public static DenseImportReport Import(RnaPairModel model, IReadOnlyDictionary<string, Tensor> state, string source)
    {
        using var target = new DisposableDictionary(Export(model));
        var missing = target.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !target.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException($"{source}: not an RnaDense state dict of this architecture" +
                (missing.Count > 0 ? $"; missing {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}" : "") +
                (unexpected.Count > 0 ? $"; unexpected {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", …" : "")}" : "") + ".");
        foreach (var (name, t) in target)
            if (!state[name].shape.SequenceEqual(t.shape))
                throw new InvalidDataException($"{source}: {name} has shape [{string.Join(", ", state[name].shape)}], the model needs [{string.Join(", ", t.shape)}].");

        var residuals = new List<(string, double)>();
        using var grad = no_grad();
        using var scope = NewDisposeScope();
        Tensor Get(string name, Tensor like) => state[name].to(like.dtype).to(like.device);
        foreach (var (prefix, module) in Layers(model))
            switch (module)
            {
                case LSTM or Linear:
                    foreach (var (name, p) in module.named_parameters()) p.copy_(Get($"{prefix}.{name}", p));
                    break;
                case TiedConvolution tied:
                    residuals.Add(($"{prefix}.weight", Project(tied.TiedKernel, state[$"{prefix}.weight"])));
                    if (tied.TiedBias is { } tb) residuals.Add(($"{prefix}.bias", Project(tb, state[$"{prefix}.bias"])));
                    else if (tied.Bias is { } b) b.copy_(Get($"{prefix}.bias", b));
                    break;
                case Conv2d conv:
                    conv.weight!.copy_(Get($"{prefix}.weight", conv.weight));
                    if (conv.bias is not null) conv.bias.copy_(Get($"{prefix}.bias", conv.bias));
                    break;
                case PairBatchNorm2d bn:
                    bn.Weight.copy_(Get($"{prefix}.weight", bn.Weight));
                    bn.Bias.copy_(Get($"{prefix}.bias", bn.Bias));
                    bn.RunningMean.copy_(Get($"{prefix}.running_mean", bn.RunningMean));
                    bn.RunningVar.copy_(Get($"{prefix}.running_var", bn.RunningVar));
                    break;
            }
        return new DenseImportReport(residuals);
    }

    /// <summary>Projects <paramref name="dense"/> onto the tied space and returns ‖W − B·θ‖ / ‖W‖.</summary>
    private static double Project(EquiSharp.Symmetry.TiedWeight tied, Tensor dense)
    {
        tied.LoadFromDense(dense);
        var w = dense.to(float64);
        double norm = w.norm().item<double>();
        double distance = (tied.Materialize().detach().to(float64).cpu() - w.cpu()).norm().item<double>();
        return norm == 0 ? distance : distance / norm;
    }

    /// <summary>Writes the dense state dict of the RNA model in <paramref name="modelDir"/> to <paramref name="path"/> (safetensors, or a pickle when allowed); returns the tensor count.</summary>
    public static int SaveFile(string modelDir, string path, Device device, bool allowPickle = false)
    {
        var (model, _, _) = RnaModelSpec.LoadModel(modelDir, device);
        using (model)
        {
            using var state = new DisposableDictionary(Export(model));
            TorchStateDictFile.Save(path, state, allowPickle);
            return state.Count;
        }
    }

    /// <summary>
    /// Builds the architecture of <paramref name="likeDir"/> (its model.json), loads the dense state dict of
    /// <paramref name="path"/> into it (tied kernels projected) and writes a model directory <paramref name="outDir"/>
    /// (model.json and best/) that every RNA command reads.
    /// </summary>
    public static DenseImportReport ImportFile(string path, string likeDir, string outDir, Device device, bool allowPickle = false)
    {
        var spec = RnaModelSpec.Load(likeDir);
        using var model = spec.Build(device);
        using var state = new DisposableDictionary(TorchStateDictFile.Load(path, allowPickle));
        var report = Import(model, state, path);
        model.eval();
        spec.Save(outDir);
        EquiSharp.Training.Checkpoint.Save(outDir, model, null, new EquiSharp.Training.TrainingState(), EquiSharp.Training.Checkpoint.BestName);
        return report;
    }

    /// <summary>The model's layers in RnaDense order, each with its RnaDense state-dict prefix.</summary>
    public static IEnumerable<(string Prefix, nn.Module Module)> Layers(RnaPairModel model)
    {
        var parts = model.named_children().ToDictionary(c => c.name, c => c.module);
        if (parts.TryGetValue("lstm", out var lstm)) { yield return ("lstm", lstm); yield return ("dense", parts["dense"]); }
        foreach (var x in Encoder("g", model.Encoder)) yield return x;
        var stages = model.Stages;
        for (int i = 0; i < stages.Count; i++)
        {
            for (int k = 0; k < stages[i].Branches.Count; k++) yield return ($"b{i + 1}.convs.{k}", stages[i].Branches[k]);
            if (stages[i].Norm is { } n) yield return ($"b{i + 1}.bn", n);
        }
        if (model.Skip is { } skip) foreach (var x in Encoder("g0", skip)) yield return x;
        yield return ("out", model.Head.Branches.Single());
        if (model.Head.Norm is { } headNorm) yield return ("bn", headNorm);
    }

    private static IEnumerable<(string, nn.Module)> Encoder(string block, PairEncoder encoder)
    {
        var parts = encoder.named_children().ToDictionary(c => c.name, c => c.module);
        yield return ($"{block}.convs.0", parts["conv"]);
        if (parts.TryGetValue("norm", out var norm)) yield return ($"{block}.bn", norm);
    }

    /// <summary>A dictionary of tensors disposed together.</summary>
    private sealed class DisposableDictionary(Dictionary<string, Tensor> items) : Dictionary<string, Tensor>(items), IDisposable
    {
        public void Dispose() { foreach (var t in Values) t.Dispose(); }
    }
}
