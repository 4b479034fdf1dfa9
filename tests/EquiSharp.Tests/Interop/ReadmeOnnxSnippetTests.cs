using System.Globalization;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Interop;
using EquiSharp.Interop.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Interop;

/// <summary>
/// The README's ONNX Runtime snippet (no EquiSharp in it), compiled here as <see cref="Snippet"/>, run on an exported
/// model, and kept identical to the README's code block (the lines between the README markers below).
/// </summary>
[Collection("rna-serial")]
public sealed class ReadmeOnnxSnippetTests
{
    private static void Snippet(string[] args)
    {
        // README begin
        string model = args[0], sequence = args[1].ToUpperInvariant().Replace('T', 'U');   // an exported RNA model, a sequence
        using var session = new InferenceSession(model);
        var onehot = new DenseTensor<float>(new[] { 1, sequence.Length, 5 });   // A, C, G, U, other
        for (int i = 0; i < sequence.Length; i++) onehot[0, i, "ACGU".IndexOf(sequence[i]) is int k and >= 0 ? k : 4] = 1f;
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("onehot", onehot) }, new[] { "probabilities" });
        var p = results[0].AsTensor<float>();   // (1, L, L) pair probabilities; decoding a structure is up to you
        for (int i = 0; i < sequence.Length; i++)
            for (int j = i + 1; j < sequence.Length; j++)
                if (p[0, i, j] > 0.5f) Console.WriteLine(FormattableString.Invariant($"{i + 1} {j + 1} {p[0, i, j]:0.000}"));
        // README end
    }

    private static string[] MarkedLines(string text, string begin, string end)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int a = lines.FindIndex(l => l.Trim() == begin), b = lines.FindIndex(l => l.Trim() == end);
        Assert.True(a >= 0 && b > a, $"markers '{begin}' … '{end}' not found");
        var block = lines.Skip(a + 1).Take(b - a - 1).ToList();
        int indent = block.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return block.Select(l => l.Length >= indent ? l[indent..] : l.Trim()).ToArray();
    }

    [Fact]
    public void ReadmeSnippetIsTheCompiledOne()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        string source = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "tests", "EquiSharp.Tests", "Interop", "ReadmeOnnxSnippetTests.cs"));
        var fromSource = MarkedLines(source, "// README begin", "// README end");
        var fromReadme = MarkedLines(readme, "<!-- onnx-snippet begin -->", "<!-- onnx-snippet end -->")
            .Where(l => !l.StartsWith("```") && !System.Text.RegularExpressions.Regex.IsMatch(l, @"^using [A-Za-z.]+;$")).SkipWhile(l => l.Length == 0).ToArray();
        Assert.Equal(fromSource, fromReadme);
    }

    [Fact]
    public void ReadmeSnippetPrintsThePairsAboveOneHalf()
    {
        manual_seed(60);
        using var model = new RnaPairModel(RnaModelConfig.Small, symmetric: true);
        OnnxExportTests.RandomiseNorms(model, 61);
        const string sequence = "GGGAAACUUCGGUUUCCCAGCAUCGAUGCUAA";
        var x = EquiSharp.Applications.Rna.RnaFeatures.OneHot(sequence, CPU);
        float[] probabilities;
        using (no_grad())
        {
            // shift the head's batch-norm bias so that about a tenth of the pairs lie above 0.5 (the printout is not empty)
            var logits = model.forward(x);
            var norm = model.modules().OfType<EquiSharp.Layers.Pairwise.PairBatchNorm2d>().Last();
            norm.Bias.sub_(logits.flatten().quantile(0.9f));
            probabilities = sigmoid(model.forward(x)).flatten().data<float>().ToArray();
        }
        using var dir = new TempDir();
        string path = OnnxExport.Save(OnnxExportTests.Wrap(ModelFamily.Rna, model, "RnaScnn"), Path.Combine(dir.Path, "rna.onnx")).Path;

        var expected = new List<string>();
        int n = sequence.Length;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                if (probabilities[i * n + j] > 0.5f && Math.Abs(probabilities[i * n + j] - 0.5f) > 1e-4)
                    expected.Add($"{i + 1} {j + 1}");
        Assert.InRange(expected.Count, 5, n * n);

        var oldOut = Console.Out;
        var captured = new StringWriter(CultureInfo.InvariantCulture);
        Console.SetOut(captured);
        try { Snippet([path, sequence]); }
        finally { Console.SetOut(oldOut); }
        var printed = captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join(' ', l.Split(' ').Take(2))).ToList();
        Assert.Equal(expected, printed.Where(l => expected.Contains(l)).ToList());
        Assert.True(printed.Count - expected.Count <= 2, "only pairs within 1e-4 of 0.5 may differ");
    }
}
