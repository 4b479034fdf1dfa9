using System.Diagnostics;
using EquiSharp.Applications.Dna.Models;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Applications.Protein.Models;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Interop;
using EquiSharp.Interop.Onnx;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Interop;

/// <summary>
/// A fact that needs ONNX's own checker (Debian's python3-onnx, which .ci/run installs): reported as skipped, with the
/// reason, where <c>/usr/bin/python3 -c 'import onnx'</c> fails.
/// </summary>
public sealed class OnnxCheckerFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Missing = new(() =>
    {
        var (code, output) = OnnxCheckerTests.Python("import onnx");
        return code == 0 ? null : $"python3-onnx is not installed (apt-get install python3-onnx): /usr/bin/python3 -c 'import onnx' said {output.Trim().Split('\n')[^1]}";
    });

    public OnnxCheckerFactAttribute()
    {
        if (Missing.Value is string reason) Skip = reason;
    }
}

/// <summary>Every exportable model kind passes <c>onnx.checker.check_model(..., full_check=True)</c> (with shape inference).</summary>
public sealed class OnnxCheckerTests
{
    internal static (int ExitCode, string Output) Python(string code, params string[] args)
    {
        if (!File.Exists("/usr/bin/python3")) return (-1, "no /usr/bin/python3");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(code);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    [OnnxCheckerFact]
    public void EveryExportedKindPassesTheOnnxChecker()
    {
        manual_seed(30);
        using var dir = new TempDir();
        var files = new List<string>();
        void Save(ModelFamily family, TorchSharp.torch.nn.Module model, string kind)
        {
            using (model)
            {
                OnnxExportTests.RandomiseNorms(model, 31);
                files.Add(OnnxExport.Save(OnnxExportTests.Wrap(family, model, kind), Path.Combine(dir.Path, kind + ".onnx")).Path);
            }
        }
        Save(ModelFamily.Rna, new RnaPairModel(RnaModelConfig.Small, symmetric: true), "RnaScnn");
        Save(ModelFamily.Rna, new RnaPairModel(RnaModelConfig.Small, symmetric: false), "RnaCnn");
        Save(ModelFamily.Protein, new ContactModel(symmetric: true), "ContactScnn");
        Save(ModelFamily.Image, new PlanarCnn(PlanarCnnSpec.Preset("p4cnn") with { Width = 2 }), "p4cnn");
        Save(ModelFamily.Image, new PlanarCnn(PlanarCnnSpec.Preset("p4mcnn") with { Width = 2 }), "p4mcnn");
        Save(ModelFamily.Dna, new DnaConvNet(DnaModelSpec.Simulated("rc", 4, new[] { "a" }, length: 60)), "DnaRc");
        var (code, output) = Python(
            "import sys, onnx\n" +
            "for path in sys.argv[1:]:\n" +
            "    m = onnx.load(path)\n" +
            "    onnx.checker.check_model(m, full_check=True)\n" +
            "    print('ok', path, m.ir_version, m.opset_import[0].version)\n", files.ToArray());
        Assert.True(code == 0, output);
        Assert.Equal(files.Count, output.Split('\n').Count(l => l.StartsWith("ok ") && l.EndsWith(" 8 17")));
    }
}
