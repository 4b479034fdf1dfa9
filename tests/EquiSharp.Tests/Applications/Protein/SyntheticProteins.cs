using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Formats;

namespace EquiSharp.Tests.Applications.Protein;

/// <summary>Small generated proteins with the cached-feature layout (45 1-D channels, MI and DCA maps, distances).</summary>
internal static class SyntheticProteins
{
    /// <summary>
    /// A chain of <paramref name="length"/> residues on a 3.8 Å random walk (so some pairs far apart in sequence are
    /// close in space), random symmetric coupling maps, and every residue i with i mod 7 = 3 unmapped.
    /// </summary>
    public static ProteinFeatures Make(string name, int length, int seed)
    {
        var rng = new Random(seed);
        var seq = new string(Enumerable.Range(0, length).Select(_ => AminoAcids.Standard[rng.Next(20)]).ToArray());
        var points = new (double X, double Y, double Z)[length];
        for (int i = 1; i < length; i++)
        {
            double u = 2 * rng.NextDouble() - 1, phi = 2 * Math.PI * rng.NextDouble(), s = Math.Sqrt(1 - u * u);
            points[i] = (points[i - 1].X + 3.8 * s * Math.Cos(phi), points[i - 1].Y + 3.8 * s * Math.Sin(phi), points[i - 1].Z + 3.8 * u);
        }
        var beta = new float[length * length];
        var alpha = new float[length * length];
        for (int i = 0; i < length; i++)
            for (int j = 0; j < length; j++)
            {
                var (a, b) = (points[i], points[j]);
                beta[i * length + j] = (float)Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));
                alpha[i * length + j] = beta[i * length + j] * 1.05f;
            }
        int d = ProteinFeatureBuilder.OneDNames.Length;
        var oneD = new float[length * d];
        for (int i = 0; i < length; i++)
        {
            oneD[i * d + AminoAcids.IndexOf(seq[i])] = 1;
            for (int c = 21; c < d; c++) oneD[i * d + c] = (float)rng.NextDouble();
        }
        var columns = Enumerable.Range(0, length).Select(i => i % 7 == 3 ? -1 : i).ToArray();
        float[] Coupling()
        {
            var m = new float[length * length];
            for (int i = 0; i < length; i++)
                for (int j = i + 1; j < length; j++)
                    if (columns[i] >= 0 && columns[j] >= 0)
                        m[i * length + j] = m[j * length + i] = (float)(rng.NextDouble() + (beta[i * length + j] < 8 ? 0.5 : 0));
            return m;
        }
        return new ProteinFeatures
        {
            Name = name, Sequence = seq, BestRow = "row", ResidueLabels = Enumerable.Range(1, length).Select(i => $"{i}").ToArray(),
            ColumnOfResidue = columns, Coverage = columns.Count(c => c >= 0) / (double)length, Identity = 1, AlignmentRows = 50,
            AlignmentWidth = length, EffectiveSequences = 40, OneDNames = ProteinFeatureBuilder.OneDNames, OneD = oneD,
            TwoDNames = ProteinFeatureBuilder.TwoDNames, TwoD = [Coupling(), Coupling()], BetaDistances = beta, AlphaDistances = alpha,
        };
    }

    /// <summary>Writes <paramref name="count"/> proteins PF0000k_1ABC_A (lengths 30 to 44) as .features files; returns the directory.</summary>
    public static string WriteDirectory(string directory, int count)
    {
        Directory.CreateDirectory(directory);
        for (int k = 0; k < count; k++)
        {
            var f = Make($"PF{k + 1:00000}_1ABC_A", 30 + (k * 5) % 15, seed: 100 + k);
            ProteinFeatureFile.Write(Path.Combine(directory, f.Name + ProteinFeatureFile.Extension), f);
        }
        return directory;
    }
}
