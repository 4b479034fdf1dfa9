using EquiSharp.Applications.Rna.Models;
using EquiSharp.Interop.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Interop;

/// <summary>
/// A fact that runs the plain PyTorch module <c>RnaDense</c> (shared/peers/rna_dense_torch.py, beside the checkout) in
/// Debian's python3-torch; skipped, with the reason, where either is missing.
/// </summary>
public sealed class PyTorchPeerFactAttribute : FactAttribute
{
    internal static readonly Lazy<string?> Peer = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (!File.Exists(Path.Combine(d.FullName, "EquiSharp.sln"))) continue;
            foreach (var shared in new[] { Path.Combine(d.FullName, "..", "shared"), Path.Combine(d.FullName, "..", "..", "shared") })
                if (File.Exists(Path.Combine(shared, "peers", "rna_dense_torch.py"))) return Path.GetFullPath(Path.Combine(shared, "peers"));
        }
        return null;
    });

    private static readonly Lazy<string?> Missing = new(() =>
    {
        if (Peer.Value is null) return "shared/peers/rna_dense_torch.py is not beside this checkout";
        var (code, output) = OnnxCheckerTests.Python("import torch");
        return code == 0 ? null : $"python3-torch is not installed (apt-get install python3-torch): {output.Trim().Split('\n')[^1]}";
    });

    public PyTorchPeerFactAttribute()
    {
        if (Missing.Value is string reason) Skip = reason;
    }
}

/// <summary>
/// Dense state dicts under RnaDense's names: an SCNN exported here loads into PyTorch's RnaDense with
/// <c>load_state_dict(strict=True)</c> and computes the same probabilities; a state dict saved by PyTorch loads here
/// (a plain CNN reproduces PyTorch's output; an SCNN takes the projection onto its tied space and reports the residual).
/// </summary>
[Collection("rna-serial")]
public sealed class PyTorchInteropTests
{
    // RnaDense's input size and the shared peer's helpers; the safetensors file is read by its published layout
    // (8-byte little-endian header length, JSON header, raw data), since Debian has no python3-safetensors
    private const string PythonPrelude = """
        import json, struct, sys, torch
        sys.path.insert(0, sys.argv[1])
        from rna_dense_torch import RnaDense
        def read_safetensors(path):
            raw = open(path, 'rb').read()
            n = struct.unpack('<Q', raw[:8])[0]
            header = json.loads(raw[8:8 + n]); data = raw[8 + n:]
            kinds = {'F32': torch.float32, 'I64': torch.int64, 'F64': torch.float64}
            out = {}
            for name, e in header.items():
                if name == '__metadata__': continue
                a, b = e['data_offsets']
                out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=kinds[e['dtype']]).reshape(e['shape']).clone()
            return out
        """;

    private static Tensor RandomOneHot(long length, ulong seed) =>
        nn.functional.one_hot(randint(0, 5, new[] { 1, length }, generator: new Generator(seed)), 5).to(float32);

    private static double RelativeGap(Tensor a, Tensor b) => (a - b).abs().max().item<float>() / b.abs().max().item<float>();

    [PyTorchPeerFact]
    public void ScnnWeightsLoadStrictlyIntoPyTorchRnaDenseAndComputeTheSameProbabilities()
    {
        manual_seed(50);
        using var model = new RnaPairModel(RnaModelConfig.Paper, symmetric: true);
        OnnxExportTests.RandomiseNorms(model, 51);
        using var dir = new TempDir();
        string weights = Path.Combine(dir.Path, "scnn.safetensors"), input = Path.Combine(dir.Path, "x.safetensors"), output = Path.Combine(dir.Path, "p.f32");
        var state = RnaTorchStateDict.Export(model);
        TorchStateDictFile.Save(weights, state);
        foreach (var t in state.Values) t.Dispose();
        var x = RandomOneHot(23, 52);
        TorchStateDictFile.Save(input, new Dictionary<string, Tensor> { ["x"] = x });
        var (code, text) = OnnxCheckerTests.Python(PythonPrelude + "\n" + """
            m = RnaDense(); m.load_state_dict(read_safetensors(sys.argv[2]), strict=True); m.eval()
            with torch.no_grad(): p = m(read_safetensors(sys.argv[3])['x'])
            open(sys.argv[4], 'wb').write(p.contiguous().numpy().tobytes()); print('ok', tuple(p.shape))
            """, PyTorchPeerFactAttribute.Peer.Value!, weights, input, output);
        Assert.True(code == 0, text);
        var fromTorch = tensor(BytesToFloats(File.ReadAllBytes(output))).reshape(1, 23, 23);
        Tensor ours;
        using (no_grad()) ours = sigmoid(model.forward(x));
        double gap = RelativeGap(fromTorch, ours);
        Assert.True(gap <= 1e-4, $"PyTorch RnaDense vs EquiSharp SCNN: relative gap {gap:E2}");
    }

    [PyTorchPeerFact]
    public void PyTorchStateDictLoadsHereCnnExactlyScnnProjected()
    {
        using var dir = new TempDir();
        string weights = Path.Combine(dir.Path, "dense.pt"), input = Path.Combine(dir.Path, "x.safetensors"), output = Path.Combine(dir.Path, "p.f32");
        var x = RandomOneHot(19, 53);
        TorchStateDictFile.Save(input, new Dictionary<string, Tensor> { ["x"] = x });
        var (code, text) = OnnxCheckerTests.Python(PythonPrelude + "\n" + """
            torch.manual_seed(3); m = RnaDense()
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5); mod.weight.data.uniform_(0.5, 1.5)
            m.eval(); torch.save(m.state_dict(), sys.argv[2])
            with torch.no_grad(): p = m(read_safetensors(sys.argv[3])['x'])
            open(sys.argv[4], 'wb').write(p.contiguous().numpy().tobytes()); print('ok')
            """, PyTorchPeerFactAttribute.Peer.Value!, weights, input, output);
        Assert.True(code == 0, text);
        var fromTorch = tensor(BytesToFloats(File.ReadAllBytes(output))).reshape(1, 19, 19);

        Assert.Throws<ArgumentException>(() => TorchStateDictFile.Load(weights));   // a pickle needs allowPickle
        var state = TorchStateDictFile.Load(weights, allowPickle: true);
        using (var cnn = new RnaPairModel(RnaModelConfig.Paper, symmetric: false))
        {
            var report = RnaTorchStateDict.Import(cnn, state, weights);
            Assert.Empty(report.Residuals);   // nothing tied, nothing projected
            cnn.eval();
            using (no_grad()) Assert.True(RelativeGap(sigmoid(cnn.forward(x)), fromTorch) <= 1e-4);
        }
        using (var scnn = new RnaPairModel(RnaModelConfig.Paper, symmetric: true))
        {
            var report = RnaTorchStateDict.Import(scnn, state, weights);
            Assert.Equal(9, report.Residuals.Count(r => r.Name.EndsWith(".weight")));   // g, b1 ×3, b2 ×2, b3, g0, out
            // random dense kernels are far from the tied space: the residual says so
            Assert.True(report.MaxResidual > 0.3, $"max residual {report.MaxResidual}");
            Assert.All(report.Residuals, r => Assert.InRange(r.Residual, 0.0, 1.0));
        }
        foreach (var t in state.Values) t.Dispose();
    }

    private static float[] BytesToFloats(byte[] bytes)
    {
        var f = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, f, 0, bytes.Length);
        return f;
    }
}
