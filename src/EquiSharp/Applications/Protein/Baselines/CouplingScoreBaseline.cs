using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Metrics;

namespace EquiSharp.Applications.Protein.Baselines;

/// <summary>
/// The unsupervised baseline every learned model must beat: rank residue pairs by one cached coevolution score
/// (mean-field DCA by default, or APC-corrected MI). Its scores are not probabilities, so only the top-L/k precisions
/// are meaningful; the thresholded PPV/sensitivity of <see cref="ContactEvaluation"/> are not.
/// </summary>
public sealed class CouplingScoreBaseline(string channel = "dca_mf")
{
    /// <summary>The 2-D channel used as the score.</summary>
    public string Channel { get; } = channel;

    /// <summary>Parses the CLI names dca and mi.</summary>
    public static CouplingScoreBaseline FromName(string name) => name.Trim().ToLowerInvariant() switch
    {
        "dca" => new CouplingScoreBaseline("dca_mf"),
        "mi" => new CouplingScoreBaseline("mi_apc"),
        _ => throw new ArgumentException($"unknown baseline '{name}' (expected dca or mi)."),
    };

    /// <summary>The L × L score map of a protein.</summary>
    public float[] Score(ProteinFeatures protein) => protein.Channel(Channel);

    /// <summary>Scores the baseline on one protein against the chosen contact definition.</summary>
    public ContactScores Evaluate(ProteinFeatures protein, ContactAtom atom = ContactAtom.Beta) =>
        ContactEvaluation.Evaluate(Score(protein), protein.Contacts(atom), protein.EvaluationMask(atom));
}
