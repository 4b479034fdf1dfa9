using EquiSharp.Applications.Protein.Contacts;

namespace EquiSharp.Applications.Protein.Features;

/// <summary>
/// Everything computed once per protein: the chain, its mapping onto the alignment, 1-D features (L × D1,
/// row-major), alignment-derived 2-D features (one L × L row-major map per channel: APC-corrected MI and mean-field
/// DCA) and the true Cβ and Cα distances (NaN where an atom is missing). The third 2-D channel, the residue-pair
/// contact potential, depends on the training folds and is made at training time by <see cref="ResiduePairContactPotential"/>.
/// </summary>
public sealed class ProteinFeatures
{
    /// <summary>Protein name (the Pfam id and structure, e.g. PF00013_1WVN_A).</summary>
    public required string Name { get; init; }

    /// <summary>Chain sequence, one letter per residue (X for non-standard).</summary>
    public required string Sequence { get; init; }

    /// <summary>The file's residue labels (number plus insertion code), gaps in the numbering kept.</summary>
    public required string[] ResidueLabels { get; init; }

    /// <summary>Alignment column of each residue, -1 = unmapped (zero alignment features, masked).</summary>
    public required int[] ColumnOfResidue { get; init; }

    /// <summary>Fraction of residues with a column.</summary>
    public required double Coverage { get; init; }

    /// <summary>Identity of the mapped residues to the best-matching row.</summary>
    public required double Identity { get; init; }

    /// <summary>Name of the best-matching alignment row.</summary>
    public required string BestRow { get; init; }

    /// <summary>Alignment size: rows, columns and the effective number of sequences after reweighting.</summary>
    public required int AlignmentRows { get; init; }

    /// <inheritdoc cref="AlignmentRows"/>
    public required int AlignmentWidth { get; init; }

    /// <inheritdoc cref="AlignmentRows"/>
    public required double EffectiveSequences { get; init; }

    /// <summary>Names of the 1-D channels.</summary>
    public required string[] OneDNames { get; init; }

    /// <summary>1-D features, L × OneDNames.Length row-major.</summary>
    public required float[] OneD { get; init; }

    /// <summary>Names of the 2-D channels.</summary>
    public required string[] TwoDNames { get; init; }

    /// <summary>2-D features, one symmetric L × L row-major map per channel.</summary>
    public required float[][] TwoD { get; init; }

    /// <summary>Cβ–Cβ distances (Cα for glycine), L × L, NaN where unknown.</summary>
    public required float[] BetaDistances { get; init; }

    /// <summary>Cα–Cα distances, L × L, NaN where unknown.</summary>
    public required float[] AlphaDistances { get; init; }

    /// <summary>Number of chain residues.</summary>
    public int Length => Sequence.Length;

    /// <summary>True where the residue maps to an alignment column.</summary>
    public bool[] Mapped => ColumnOfResidue.Select(c => c >= 0).ToArray();

    /// <summary>Number of mapped residues: the L of the top-L/k precisions.</summary>
    public int MappedCount => ColumnOfResidue.Count(c => c >= 0);

    /// <summary>The 2-D channel called <paramref name="name"/>.</summary>
    public float[] Channel(string name)
    {
        int k = Array.IndexOf(TwoDNames, name);
        return k >= 0 ? TwoD[k] : throw new ArgumentException($"{Name}: no 2-D feature '{name}' (have {string.Join(", ", TwoDNames)}).");
    }

    /// <summary>Distances for the chosen atom.</summary>
    public float[] Distances(ContactAtom atom) => atom == ContactAtom.Beta ? BetaDistances : AlphaDistances;

    /// <summary>True contact map (distance below 8 Å) for the chosen atom.</summary>
    public float[] Contacts(ContactAtom atom) => ContactMaps.FromDistances(Distances(atom), Length);

    /// <summary>Residues that count in losses and metrics: mapped to a column and with known coordinates.</summary>
    public bool[] EvaluationMask(ContactAtom atom)
    {
        var known = ContactMaps.HasCoordinates(Distances(atom), Length);
        return ColumnOfResidue.Select((c, i) => c >= 0 && known[i]).ToArray();
    }
}
