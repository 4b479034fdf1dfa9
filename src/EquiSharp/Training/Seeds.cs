namespace EquiSharp.Training;

/// <summary>
/// Seed derivation that is the same in every process and on every platform (System.HashCode is randomised per
/// process, so it must never feed a seed): SplitMix64-style mixing of (seed, stream, index).
/// </summary>
public static class Seeds
{
    /// <summary>Stream of the trainer's per-epoch data order and crops.</summary>
    public const int DataOrderStream = 1;
    /// <summary>Stream of deterministic dev splits.</summary>
    public const int DevSplitStream = 2;
    /// <summary>Stream of random dev windows (RNA selection on long windows).</summary>
    public const int DevWindowStream = 3;

    /// <summary>A non-negative 31-bit seed derived from a run seed, a stream id and an index (e.g. the epoch).</summary>
    public static int Derive(int seed, int stream, int index)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)stream * 0xBF58476D1CE4E5B9UL + (ulong)(uint)index * 0x94D049BB133111EBUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }
}
