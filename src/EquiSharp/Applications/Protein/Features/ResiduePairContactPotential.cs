using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Formats;

namespace EquiSharp.Applications.Protein.Features;

/// <summary>
/// A statistical residue-pair contact potential estimated from training structures only (estimating it on all
/// proteins would leak test labels). For residue types a, b (21, X included, unordered) over the pairs with
/// |i − j| ≥ <see cref="MinSeparation"/> of the training chains' masked residues: n_ab contacts among t_ab pairs,
/// overall contact rate p = Σn / Σt, and the log-odds U(a,b) = ln( ((n_ab + α p) / (t_ab + α)) / p ) with α
/// pseudo-pairs at the overall rate, so unseen types score 0. The 2-D feature of residues i ≠ j is U(a_i, a_j),
/// symmetric because the table is.
/// </summary>
public sealed class ResiduePairContactPotential
{
    /// <summary>Minimum sequence separation of the pairs counted.</summary>
    public const int MinSeparation = 6;

    private const int Types = 21;
    private readonly double[] table;

    private ResiduePairContactPotential(double[] table) => this.table = table;

    /// <summary>Estimates the table from training proteins (their sequences, evaluation masks and contacts).</summary>
    public static ResiduePairContactPotential Estimate(IEnumerable<ProteinFeatures> training, ContactAtom atom = ContactAtom.Beta, double pseudoPairs = 10)
    {
        var contacts = new double[Types * Types];
        var totals = new double[Types * Types];
        foreach (var f in training)
        {
            int n = f.Length;
            var map = f.Contacts(atom);
            var mask = f.EvaluationMask(atom);
            var type = f.Sequence.Select(AminoAcids.IndexOf).ToArray();
            for (int i = 0; i < n; i++)
                for (int j = i + MinSeparation; j < n; j++)
                {
                    if (!mask[i] || !mask[j]) continue;
                    int a = Math.Min(type[i], type[j]), b = Math.Max(type[i], type[j]);
                    totals[a * Types + b]++;
                    contacts[a * Types + b] += map[i * n + j];
                }
        }
        double rate = contacts.Sum() / Math.Max(totals.Sum(), 1);
        var u = new double[Types * Types];
        if (rate > 0)
            for (int a = 0; a < Types; a++)
                for (int b = a; b < Types; b++)
                {
                    double p = (contacts[a * Types + b] + pseudoPairs * rate) / (totals[a * Types + b] + pseudoPairs);
                    u[a * Types + b] = u[b * Types + a] = Math.Log(p / rate);
                }
        return new ResiduePairContactPotential(u);
    }

    /// <summary>The 21 × 21 table U, row-major by <see cref="AminoAcids.IndexOf"/> (to store it with a trained model).</summary>
    public double[] Table => (double[])table.Clone();

    /// <summary>Rebuilds a potential from a stored <see cref="Table"/>; it must be 21 × 21, finite and symmetric.</summary>
    public static ResiduePairContactPotential FromTable(IReadOnlyList<double> values)
    {
        if (values.Count != Types * Types) throw new InvalidDataException($"A contact potential table has {Types * Types} values, got {values.Count}.");
        var t = values.ToArray();
        for (int a = 0; a < Types; a++)
            for (int b = 0; b < Types; b++)
                if (!double.IsFinite(t[a * Types + b]) || t[a * Types + b] != t[b * Types + a])
                    throw new InvalidDataException($"The contact potential table is not finite and symmetric at ({a}, {b}).");
        return new ResiduePairContactPotential(t);
    }

    /// <summary>U(a, b) for one-letter codes.</summary>
    public double this[char a, char b] => table[AminoAcids.IndexOf(a) * Types + AminoAcids.IndexOf(b)];

    /// <summary>The L × L feature map of a sequence: U(a_i, a_j) off the diagonal, 0 on it.</summary>
    public float[] Map(string sequence)
    {
        int n = sequence.Length;
        var type = sequence.Select(AminoAcids.IndexOf).ToArray();
        var map = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) map[i * n + j] = (float)table[type[i] * Types + type[j]];
        return map;
    }
}
