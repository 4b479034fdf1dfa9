using EquiSharp.Applications.Protein.Formats;

namespace EquiSharp.Applications.Protein.Features;

/// <summary>
/// Reweighted one- and two-column state frequencies of an alignment (q = 21 states: 20 residues and the gap).
/// Sequence weights follow Morcos et al. 2011 (PNAS 108:E1293): w_n = 1 / #{m : identity(n, m) &gt; θ}, identity
/// being the fraction of the W columns where the rows have the same state (gaps included), θ = 0.8 by default;
/// M_eff = Σ w_n. Frequencies are the weighted counts divided by M_eff, without pseudocounts (those are added by the
/// scores that need them).
/// </summary>
public sealed class AlignmentStatistics
{
    /// <summary>States per column.</summary>
    public const int Q = MultipleAlignment.States;

    /// <summary>Number of columns W.</summary>
    public int Width { get; }

    /// <summary>Sequence weights w_n.</summary>
    public double[] Weights { get; }

    /// <summary>Effective number of sequences M_eff = Σ w_n.</summary>
    public double EffectiveCount { get; }

    /// <summary>f_i(a), W × 21 row-major.</summary>
    public double[] Single { get; }

    /// <summary>f_ij(a, b), a (21W) × (21W) row-major matrix indexed [i·21 + a, j·21 + b]; the diagonal blocks are diag(f_i).</summary>
    public double[] Pair { get; }

    /// <summary>Computes the weights and frequencies of <paramref name="alignment"/>.</summary>
    public AlignmentStatistics(MultipleAlignment alignment, double identityThreshold = 0.8)
    {
        int n = alignment.Count, w = alignment.Width;
        Width = w;
        byte[] states = alignment.EncodeStates();
        Weights = SequenceWeights(states, n, w, identityThreshold);
        EffectiveCount = Weights.Sum();
        Single = new double[w * Q];
        int d = w * Q;
        Pair = new double[d * d];
        for (int s = 0; s < n; s++)
        {
            double ws = Weights[s] / EffectiveCount;
            int row = s * w;
            for (int i = 0; i < w; i++)
            {
                int ai = i * Q + states[row + i];
                Single[ai] += ws;
                long baseIndex = (long)ai * d;
                for (int j = i + 1; j < w; j++)
                    Pair[baseIndex + j * Q + states[row + j]] += ws;
            }
        }
        for (int x = 0; x < d; x++)
        {
            Pair[(long)x * d + x] = Single[x];
            for (int y = x + 1; y < d; y++)
                Pair[(long)y * d + x] = Pair[(long)x * d + y];
        }
    }

    /// <summary>
    /// w_n = 1 / (number of rows, itself included, with identity above <paramref name="threshold"/>); a row pair stops
    /// being compared once its mismatches rule the threshold out.
    /// </summary>
    public static double[] SequenceWeights(byte[] states, int n, int w, double threshold)
    {
        // identity > threshold  ⇔  mismatches < (1 - threshold)·W
        // (the tolerance keeps 0.2·100 = 20.000000000000004 from admitting 20 mismatches)
        int maxMismatches = (int)Math.Ceiling((1 - threshold) * w - 1e-9) - 1;
        var neighbours = new int[n];
        Parallel.For(0, n, a =>
        {
            int count = 0;
            for (int b = 0; b < n; b++)
            {
                int mismatches = 0;
                for (int c = 0; c < w && mismatches <= maxMismatches; c++)
                    if (states[a * w + c] != states[b * w + c]) mismatches++;
                if (mismatches <= maxMismatches) count++;
            }
            neighbours[a] = count;
        });
        return neighbours.Select(c => 1.0 / c).ToArray();
    }
}
