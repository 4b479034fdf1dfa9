using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Formats;
using EquiSharp.Applications.Protein.Mapping;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Protein.Features;

/// <summary>
/// Computes a protein's features from its structure and family alignment. 1-D, per residue (45 channels):
/// one-hot residue of the chain (21, X last); the position-specific profile of its column (21 states, reweighted
/// counts plus one pseudo-count per state: (M_eff f_i(a) + 1) / (M_eff + 21)); conservation, the profile's entropy
/// divided by ln 21 (0 = conserved, 1 = uniform); the column's reweighted gap fraction; relative position i/(L−1).
/// Unmapped residues keep their one-hot and position and get zeros for the 23 alignment channels. 2-D: APC-corrected
/// MI and mean-field DCA of the residues' columns (0 where either residue is unmapped, and on the diagonal).
/// </summary>
public static class ProteinFeatureBuilder
{
    /// <summary>Names of the 1-D channels, in order.</summary>
    public static readonly string[] OneDNames =
    [
        .. AminoAcids.WithUnknown.Select(c => $"onehot_{c}"),
        .. AminoAcids.Standard.Select(c => $"profile_{c}"), "profile_gap",
        "conservation", "gap_fraction", "relative_position",
    ];

    /// <summary>Names of the cached 2-D channels.</summary>
    public static readonly string[] TwoDNames = ["mi_apc", "dca_mf"];

    /// <summary>Builds the features of one protein.</summary>
    public static ProteinFeatures Build(string name, PdbChain chain, MultipleAlignment alignment, Device device,
        double identityThreshold = 0.8, double dcaPseudocount = MeanFieldDca.DefaultPseudocount)
    {
        var mapping = ChainToAlignmentMapper.Map(chain.Sequence, alignment);
        var stats = new AlignmentStatistics(alignment, identityThreshold);
        int w = stats.Width;
        var mi = MutualInformation.Compute(stats);
        var dca = MeanFieldDca.Compute(stats, device, dcaPseudocount);
        return new ProteinFeatures
        {
            Name = name,
            Sequence = chain.Sequence,
            ResidueLabels = chain.Residues.Select(r => r.Label).ToArray(),
            ColumnOfResidue = mapping.ColumnOfResidue,
            Coverage = mapping.Coverage,
            Identity = mapping.Identity,
            BestRow = mapping.RowName,
            AlignmentRows = alignment.Count,
            AlignmentWidth = w,
            EffectiveSequences = stats.EffectiveCount,
            OneDNames = OneDNames,
            OneD = OneDimensional(chain.Sequence, mapping.ColumnOfResidue, stats),
            TwoDNames = TwoDNames,
            TwoD = [ToResidues(mi, w, mapping.ColumnOfResidue), ToResidues(dca, w, mapping.ColumnOfResidue)],
            BetaDistances = ContactMaps.Distances(chain, ContactAtom.Beta),
            AlphaDistances = ContactMaps.Distances(chain, ContactAtom.Alpha),
        };
    }

    /// <summary>The 1-D features, L × 45 row-major (see the class summary).</summary>
    public static float[] OneDimensional(string sequence, int[] columnOf, AlignmentStatistics stats)
    {
        int n = sequence.Length, d = OneDNames.Length, q = AlignmentStatistics.Q;
        var x = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            int row = i * d;
            x[row + AminoAcids.IndexOf(sequence[i])] = 1;
            x[row + d - 1] = n > 1 ? (float)i / (n - 1) : 0;
            int c = columnOf[i];
            if (c < 0) continue;
            double entropy = 0;
            for (int a = 0; a < q; a++)
            {
                double p = (stats.EffectiveCount * stats.Single[c * q + a] + 1) / (stats.EffectiveCount + q);
                x[row + 21 + a] = (float)p;
                entropy -= p * Math.Log(p);
            }
            x[row + 42] = (float)(entropy / Math.Log(q));
            x[row + 43] = (float)stats.Single[c * q + MultipleAlignment.GapState];
        }
        return x;
    }

    /// <summary>Column-pair scores (W × W) as residue-pair scores (L × L): 0 for unmapped residues and on the diagonal.</summary>
    public static float[] ToResidues(double[] columnScores, int width, int[] columnOf)
    {
        int n = columnOf.Length;
        var map = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j && columnOf[i] >= 0 && columnOf[j] >= 0)
                    map[i * n + j] = (float)columnScores[columnOf[i] * width + columnOf[j]];
        return map;
    }
}
