namespace EquiSharp.Layers.Pairwise.Network;

/// <summary>How a pair network stores its symmetric maps in training: dense, packed (SCNN only), or chosen automatically.</summary>
public enum PairMaps { Auto, Dense, Packed }

/// <summary>The packed-or-dense decision, in one place for every application that trains a <see cref="PairNetwork"/>.</summary>
public static class PairMapPolicy
{
    /// <summary>
    /// Smallest training crop at which <see cref="PairMaps.Auto"/> chooses packed maps: measured on 2 CPU cores
    /// (docs/performance.md), packed training steps of the paper model are faster from there.
    /// </summary>
    public const int PackedFromLength = 128;

    /// <summary>Whether a network trains on packed maps for the given choice and training length.</summary>
    public static bool UsePacked(PairMaps maps, bool symmetric, int trainingLength) => maps switch
    {
        PairMaps.Dense => false,
        PairMaps.Packed => symmetric ? true : throw new ArgumentException("--maps packed needs the symmetric model (scnn); the CNN's maps are not symmetric."),
        _ => symmetric && trainingLength >= PackedFromLength,
    };

    /// <summary>Parses auto / dense / packed.</summary>
    public static PairMaps Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => PairMaps.Auto,
        "dense" => PairMaps.Dense,
        "packed" => PairMaps.Packed,
        _ => throw new ArgumentException($"--maps {text}: expected auto, dense or packed."),
    };

    /// <summary>
    /// The map a decoder should see from row-major L×L probabilities. A loss on the upper triangle (i &lt; j) leaves a
    /// plain CNN's lower triangle untrained, so for it the upper triangle is mirrored; a symmetric network's map is
    /// returned as is. The input is not modified.
    /// </summary>
    public static float[] DecodingMap(bool symmetric, float[] probabilities, int length) =>
        symmetric ? probabilities : MirrorUpper(probabilities, length);

    /// <summary>A copy with p[j,i] = p[i,j] for i &lt; j.</summary>
    public static float[] MirrorUpper(float[] probabilities, int length)
    {
        var m = (float[])probabilities.Clone();
        for (int i = 0; i < length; i++)
            for (int j = i + 1; j < length; j++) m[j * length + i] = m[i * length + j];
        return m;
    }
}
