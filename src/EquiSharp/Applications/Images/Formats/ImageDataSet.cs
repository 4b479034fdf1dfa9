namespace EquiSharp.Applications.Images.Formats;

/// <summary>
/// Labelled image splits a classifier trains on: "train", "dev" (best-weights selection) and the test splits it is
/// reported on (rotated MNIST: the rotated and the upright test images; CIFAR-10: the test batch).
/// </summary>
public sealed record ImageDataSet(string Title, IReadOnlyList<LabelledImages> Splits, IReadOnlyList<string> TestSplits)
{
    public const string Train = "train", Dev = "dev", Test = "test";
    /// <summary>Data set kinds as <c>train.json</c> names them.</summary>
    public const string RotatedMnistKind = "rotated-mnist", Cifar10Kind = "cifar10";

    /// <summary>The split with this name.</summary>
    public LabelledImages Split(string name) => Splits.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"No split '{name}' in the data set (have {string.Join(", ", Splits.Select(s => s.Name))}).");

    /// <summary>A data set of the given kind: a file written by <c>mnist build</c>, or a CIFAR-10 binary directory.</summary>
    public static ImageDataSet Load(string kind, string path) => kind switch
    {
        RotatedMnistKind => RotatedMnist.Load(path).AsDataSet(),
        Cifar10Kind => CifarBinary.Load(path),
        _ => throw new ArgumentException($"Unknown data set kind '{kind}' (expected {RotatedMnistKind} or {Cifar10Kind})."),
    };
}
