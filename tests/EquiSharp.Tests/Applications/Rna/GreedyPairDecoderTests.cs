using EquiSharp.Applications.Rna.Decoding;

namespace EquiSharp.Tests.Applications.Rna;

public sealed class GreedyPairDecoderTests
{
    private static float[,] Matrix(int n, params (int I, int J, float P)[] entries)
    {
        var m = new float[n, n];
        foreach (var (i, j, p) in entries) { m[i, j] = p; m[j, i] = p; }
        return m;
    }

    private static float[] Flat(float[,] m)
    {
        int n = m.GetLength(0);
        var flat = new float[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) flat[i * n + j] = m[i, j];
        return flat;
    }

    [Fact]
    public void TakesHighestPairsAndEachPositionOnce()
    {
        // (0,5) wins over (0,4) and (1,5); then (1,4) is still free.
        var m = Matrix(6, (0, 5, 0.9f), (0, 4, 0.8f), (1, 5, 0.85f), (1, 4, 0.7f));
        int[] p = new GreedyPairDecoder().Decode(m);
        Assert.Equal([5, 4, -1, -1, 1, 0], p);
        Assert.Equal(p, new GreedyPairDecoder().Decode(Flat(m), 6));
    }

    [Fact]
    public void ThresholdIsStrict()
    {
        var m = Matrix(4, (0, 3, 0.5f), (1, 2, 0.51f));
        Assert.Equal([-1, 2, 1, -1], new GreedyPairDecoder().Decode(m));
        Assert.Equal([3, 2, 1, 0], new GreedyPairDecoder(new() { Threshold = 0.4f }).Decode(m));
    }

    [Fact]
    public void TiesBreakBySmallerIThenSmallerJ()
    {
        var m = Matrix(5, (1, 4, 0.7f), (0, 4, 0.7f), (0, 3, 0.7f));
        // (0,3) comes first (i = 0, j = 3), then (1,4).
        Assert.Equal([3, 4, -1, 0, 1], new GreedyPairDecoder().Decode(m));
    }

    [Fact]
    public void MinHairpinLoopDropsShortLoops()
    {
        var m = Matrix(8, (2, 5, 0.99f), (0, 7, 0.6f), (1, 5, 0.9f));
        var decoder = new GreedyPairDecoder(new() { MinHairpinLoop = 3 });
        int[] p = decoder.Decode(m);
        Assert.Equal(-1, p[2]);   // 5 - 2 - 1 = 2 < 3
        Assert.Equal(5, p[1]);    // 5 - 1 - 1 = 3 is allowed
        Assert.Equal(7, p[0]);
        Assert.Equal(5, new GreedyPairDecoder().Decode(m)[2]);
    }

    [Fact]
    public void CanonicalOnlyKeepsWatsonCrickAndWobble()
    {
        var m = Matrix(6, (0, 5, 0.9f), (1, 4, 0.9f), (2, 3, 0.9f));
        // G-C ok, A-A rejected, G-U wobble ok.
        int[] p = new GreedyPairDecoder(new() { CanonicalOnly = true }).Decode(m, "GAGUAC");
        Assert.Equal([5, -1, 3, 2, -1, 0], p);
        Assert.Throws<ArgumentException>(() => new GreedyPairDecoder(new() { CanonicalOnly = true }).Decode(m));
    }

    [Fact]
    public void AsymmetricAndNaNInputsAreHandled()
    {
        var m = new float[3, 3];
        m[0, 2] = 1f; m[2, 0] = 0.2f;   // mean 0.6 > 0.5
        m[0, 1] = float.NaN; m[1, 0] = float.NaN;
        Assert.Equal([2, -1, 0], new GreedyPairDecoder().Decode(m));
    }

    [Fact]
    public void RejectsBadShapes()
    {
        var d = new GreedyPairDecoder();
        Assert.Throws<ArgumentException>(() => d.Decode(new float[2, 3]));
        Assert.Throws<ArgumentException>(() => d.Decode(new float[8], 3));
        Assert.Throws<ArgumentException>(() => d.Decode(new float[3, 3], "AC"));
    }

    [Fact]
    public void RandomMatricesGiveValidMatchingsMatchingNaiveGreedy()
    {
        var rng = new Random(3);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = 30;
            var m = new float[n, n];
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++) m[i, j] = m[j, i] = MathF.Round((float)rng.NextDouble(), 1);
            int[] p = new GreedyPairDecoder(new() { Threshold = 0.3f }).Decode(m);
            Assert.Equal(NaiveGreedy(m, 0.3f), p);
        }
    }

    /// <summary>Reference: repeated full scans for the best remaining pair, ties by (i, j).</summary>
    private static int[] NaiveGreedy(float[,] m, float threshold)
    {
        int n = m.GetLength(0);
        var p = Enumerable.Repeat(-1, n).ToArray();
        while (true)
        {
            (float best, int bi, int bj) = (threshold, -1, -1);
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                    if (p[i] < 0 && p[j] < 0 && m[i, j] > best) (best, bi, bj) = (m[i, j], i, j);
            if (bi < 0) return p;
            p[bi] = bj; p[bj] = bi;
        }
    }
}
