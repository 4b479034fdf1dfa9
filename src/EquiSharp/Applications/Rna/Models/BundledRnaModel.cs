using System.Globalization;
using System.Reflection;
using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna.Models;

/// <summary>
/// The RNA secondary-structure model that ships with EquiSharp, <c>rna-default</c>: an SCNN trained by
/// <c>equisharp rna train</c>, used by <c>rna predict</c> and <c>rna eval</c> when no <c>--model</c> is given.
/// </summary>
/// <remarks>
/// Source: the repository folder <c>models/rna-default/</c>, the files of an <c>rna train</c> model directory that
/// loading needs — <c>model.json</c> (architecture), <c>best/model.bin</c> (θ only, the dev-selected weights) and
/// <c>best/state.json</c> (epoch and dev scores). <c>EquiSharp.csproj</c> embeds them in <c>EquiSharp.dll</c> as
/// resources named <c>models/rna-default/&lt;relative path&gt;</c>, so <c>dotnet run</c>, a published CLI, the tests and
/// library users all carry the model without a file next to the executable.
/// Loading: the resources are written to a fresh temporary directory laid out as a model directory, which
/// <see cref="RnaModelSpec.LoadModel"/> — the loader of <c>rna predict --model DIR</c>, with its checks of the spec and
/// the weights' headers — reads; the directory is deleted before <see cref="Load"/> returns (the weight reader takes a
/// file path, not a stream). Data, split, budget and scores: docs/models/rna-default.md.
/// </remarks>
public static class BundledRnaModel
{
    /// <summary>The model's name (its folder under <c>models/</c>).</summary>
    public const string Name = "rna-default";

    private const string ResourcePrefix = "models/" + Name + "/";

    /// <summary>True when this build of the library embeds the model (false if <c>models/rna-default/</c> was empty when it was built).</summary>
    public static bool IsAvailable => Resources().Any();

    /// <summary>
    /// Loads the bundled model in eval mode. <c>Weights</c> is a one-line description of what was loaded
    /// ("bundled model rna-default (epoch 7, dev f1 0.6123 on 256-nt windows)").
    /// </summary>
    /// <exception cref="FileNotFoundException">This build carries no bundled model.</exception>
    public static (RnaPairModel Model, RnaModelSpec Spec, string Weights) Load(Device device)
    {
        var dir = Directory.CreateTempSubdirectory($"equisharp-{Name}-");
        try
        {
            WriteTo(dir.FullName);
            var (model, spec, _) = RnaModelSpec.LoadModel(dir.FullName, device);
            return (model, spec, Describe(Checkpoint.ReadState(dir.FullName, Checkpoint.BestName), spec));
        }
        finally { dir.Delete(recursive: true); }
    }

    /// <summary>Loads the model directory <paramref name="modelDir"/> written by <c>rna train</c>, or the bundled model when it is null.</summary>
    public static (RnaPairModel Model, RnaModelSpec Spec, string Weights) LoadOrDefault(string? modelDir, Device device) =>
        modelDir is null ? Load(device) : RnaModelSpec.LoadModel(modelDir, device);

    /// <summary>
    /// Writes the bundled files into <paramref name="dir"/> (created) as an <c>rna train</c> model directory, e.g. to
    /// export the model or to train on from it.
    /// </summary>
    /// <exception cref="FileNotFoundException">This build carries no bundled model.</exception>
    public static void WriteTo(string dir)
    {
        var names = Resources().ToList();
        if (names.Count == 0)
            throw new FileNotFoundException($"this build of EquiSharp carries no bundled RNA model (models/{Name}/ was empty when it was built); pass --model DIR.");
        var assembly = typeof(BundledRnaModel).Assembly;
        foreach (var (resource, relative) in names)
        {
            string path = Path.Combine(dir, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var source = assembly.GetManifestResourceStream(resource)!;
            using var target = File.Create(path);
            source.CopyTo(target);
        }
    }

    /// <summary>The embedded files: resource name and path relative to the model directory ('/'-separated whatever machine built it).</summary>
    private static IEnumerable<(string Resource, string Relative)> Resources() =>
        typeof(BundledRnaModel).Assembly.GetManifestResourceNames()
            .Select(r => (Resource: r, Normalised: r.Replace('\\', '/')))
            .Where(r => r.Normalised.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(r => (r.Resource, r.Normalised[ResourcePrefix.Length..].Replace('/', Path.DirectorySeparatorChar)));

    /// <summary>
    /// "bundled model rna-default (epoch 7, dev f1 0.6123 on 256-nt windows)" — the selection score, on the dev windows
    /// the run scored each epoch (the card's full-length figures differ) — or "(step 65, before any dev evaluation)" for
    /// weights taken mid-epoch.
    /// </summary>
    private static string Describe(TrainingState weights, RnaModelSpec spec)
    {
        if (weights.History.FirstOrDefault(h => h.Epoch == weights.BestEpoch) is not { } epoch)
            return $"bundled model {Name} (step {weights.Step}, before any dev evaluation)";
        string f1 = epoch.Dev.TryGetValue("f1", out double v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "?";
        string windows = spec.Training.TryGetValue("dev-max-length", out var length) ? $" on {length}-nt windows" : "";
        return $"bundled model {Name} (epoch {epoch.Epoch}, dev f1 {f1}{windows})";
    }
}
