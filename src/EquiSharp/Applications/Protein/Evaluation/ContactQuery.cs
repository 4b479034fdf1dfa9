using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Formats;
using EquiSharp.Applications.Protein.Models;
using EquiSharp.Applications.Protein.Training;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Protein.Evaluation;

/// <summary>What <see cref="ContactQuery.Predict"/> wrote.</summary>
public sealed record ContactQueryResult(string Name, int Length, int Mapped, string RrPath, string PngPath, ProteinContactResult? Scores);

/// <summary>
/// <c>protein predict</c>: contacts of one query from its family alignment and a trained model. The query is a
/// structure (its chain; the true map is then drawn in the lower triangle and scored), a sequence, or — what a user
/// without a structure has — the alignment's first row without gaps. Features are computed as by
/// <c>protein features</c>; the contact potential is the model's own (estimated from its training proteins).
/// </summary>
public static class ContactQuery
{
    public static ContactQueryResult Predict(string modelDir, string alignmentPath, string? pdbPath, string? sequence, string outDir, Device device)
    {
        if (pdbPath is not null && sequence is not null) throw new ArgumentException("Give --pdb or --seq, not both.");
        var alignment = AlignmentReader.Read(alignmentPath);
        if (alignment.Count == 0) throw new InvalidDataException($"{alignmentPath}: no sequences.");
        var chain = pdbPath is not null ? PdbReader.Read(pdbPath) : SequenceChain(sequence ?? FirstRow(alignment), pdbPath ?? alignmentPath);
        string name = pdbPath is not null ? BaseName(pdbPath) : sequence is not null ? "query" : BaseName(alignmentPath);
        var (model, spec) = ContactTrainRun.LoadModel(modelDir, device);
        using (model)
        {
            var features = ProteinFeatureBuilder.Build(name, chain, alignment, device);
            var example = ContactExample.From(features, spec.ContactPotential);
            var probabilities = ContactPrediction.Probabilities(model, example, device);
            float[]? truth = pdbPath is null ? null : features.Contacts(ContactAtom.Beta);
            Directory.CreateDirectory(outDir);
            string rr = Path.Combine(outDir, name + ".rr"), png = Path.Combine(outDir, name + ".png");
            ContactWriters.WriteRr(rr, name, features.Sequence, probabilities, minSeparation: 6, minProbability: 0.01);
            ContactWriters.PredictedVersusTruePng(png, probabilities, truth, features.Length,
                $"{name}: Contact{(model.Symmetric ? "Scnn" : "Cnn")} probabilities");
            return new ContactQueryResult(name, features.Length, features.MappedCount, rr, png,
                truth is null ? null : ContactPrediction.Score(features, probabilities));
        }
    }

    /// <summary>A chain without coordinates for a sequence query (every distance unknown).</summary>
    private static PdbChain SequenceChain(string sequence, string source)
    {
        string seq = new(sequence.Where(char.IsLetter).Select(char.ToUpperInvariant).ToArray());
        if (seq.Length == 0) throw new ArgumentException("--seq: the query sequence has no residue letters.");
        var none = new Dictionary<string, Point3>();
        return new PdbChain(source, 'A', seq.Select((c, i) => new PdbResidue(i + 1, ' ', "UNK", AminoAcids.IndexOf(c) == AminoAcids.Unknown ? 'X' : c, none, 0)).ToList(), []);
    }

    private static string FirstRow(MultipleAlignment alignment) => new(alignment.Rows[0].Where(char.IsLetter).ToArray());

    private static string BaseName(string path)
    {
        string file = Path.GetFileName(path);
        if (file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) file = file[..^3];
        return Path.GetFileNameWithoutExtension(file).Replace(" ", "_");
    }
}
