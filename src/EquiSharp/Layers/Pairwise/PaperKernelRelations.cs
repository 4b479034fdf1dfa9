using static TorchSharp.torch;

namespace EquiSharp.Layers.Pairwise;

/// <summary>
/// The SCNN paper's kernel relations written out entry by entry with explicit index loops, independent of the symmetry
/// engine that ties the kernels (so a check of a tied kernel against them is not the engine checking itself). Kernels
/// are in TorchSharp's layout W[f, k, i, j] (output channel f, input channel k, spatial i, j); the paper writes
/// W_{i,j,k,f} ∈ ℝ^{C×C×2n×F}.
/// </summary>
public static class PaperKernelRelations
{
    /// <summary>Eq. (4): Q_{i,j,k,f} = Q_{j,i,k,f}. Largest |violation| / max|Q| (NaN for Q = 0).</summary>
    public static double PreservingViolation(Tensor kernel) =>
        MaxViolation(kernel, (w, at, f, k, i, j, _) => Math.Abs(w[at(f, k, i, j)] - w[at(f, k, j, i)]));

    /// <summary>
    /// Eq. (2): W_{i,j,:,:} = W_{j,i,:,:} and W_{i,j,k,:} = W_{i,j,n+k,:} for k ≤ n (2n input channels). Largest
    /// |violation| / max|W| (NaN for W = 0).
    /// </summary>
    public static double GeneratingViolation(Tensor kernel) =>
        MaxViolation(kernel, (w, at, f, k, i, j, n) =>
            Math.Max(Math.Abs(w[at(f, k, i, j)] - w[at(f, k, j, i)]), k < n ? Math.Abs(w[at(f, k, i, j)] - w[at(f, n + k, i, j)]) : 0));

    /// <summary>
    /// The widest family for which Theorem 1 holds: W_{i,j,k,:} = W_{j,i,n+k,:} for k ≤ n. Largest |violation| / max|W|
    /// (NaN for W = 0).
    /// </summary>
    public static double WideGeneratingViolation(Tensor kernel) =>
        MaxViolation(kernel, (w, at, f, k, i, j, n) => k < n ? Math.Abs(w[at(f, k, i, j)] - w[at(f, n + k, j, i)]) : 0);

    /// <summary>
    /// Eq. (4) as a construction: Q_{i,j,k,f} = R_{i,j,k,f} for i ≥ j and R_{j,i,k,f} for i &lt; j, from any
    /// <paramref name="r"/> (F, m, C, C) whose entries with i &lt; j are ignored.
    /// </summary>
    public static Tensor PreservingKernel(Tensor r) => Build(r, r.shape[1], (f, k, i, j, _) => (f, k, Math.Max(i, j), Math.Min(i, j)));

    /// <summary>
    /// Eq. (2) as a construction: W_{i,j,k,f} = S_{max(i,j),min(i,j),k',f} with k' = k for k ≤ n and k − n for k &gt; n,
    /// from any <paramref name="s"/> (F, n, C, C); the kernel has 2n input channels.
    /// </summary>
    public static Tensor GeneratingKernel(Tensor s) =>
        Build(s, 2 * s.shape[1], (f, k, i, j, n) => (f, k < n ? k : k - n, Math.Max(i, j), Math.Min(i, j)));

    private delegate double Relation(float[] w, Func<long, long, long, long, long> at, long f, long k, long i, long j, long n);

    private static double MaxViolation(Tensor kernel, Relation relation)
    {
        if (kernel.dim() != 4 || kernel.shape[2] != kernel.shape[3])
            throw new ArgumentException($"Expected a square kernel (F, channels, C, C), got [{string.Join(", ", kernel.shape)}].", nameof(kernel));
        long outs = kernel.shape[0], ins = kernel.shape[1], c = kernel.shape[2], n = ins / 2;
        var w = kernel.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
        long At(long f, long k, long i, long j) => ((f * ins + k) * c + i) * c + j;
        double scale = w.Max(v => Math.Abs((double)v)), worst = 0;
        if (!(scale > 0)) return double.NaN;
        for (long f = 0; f < outs; f++)
            for (long k = 0; k < ins; k++)
                for (long i = 0; i < c; i++)
                    for (long j = 0; j < c; j++)
                        worst = Math.Max(worst, relation(w, At, f, k, i, j, n));
        return worst / scale;
    }

    private static Tensor Build(Tensor source, long ins, Func<long, long, long, long, long, (long F, long K, long I, long J)> sourceOf)
    {
        long outs = source.shape[0], srcIns = source.shape[1], c = source.shape[2];
        var s = source.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var w = new float[outs * ins * c * c];
        for (long f = 0; f < outs; f++)
            for (long k = 0; k < ins; k++)
                for (long i = 0; i < c; i++)
                    for (long j = 0; j < c; j++)
                    {
                        var (sf, sk, si, sj) = sourceOf(f, k, i, j, srcIns);
                        w[((f * ins + k) * c + i) * c + j] = s[((sf * srcIns + sk) * c + si) * c + sj];
                    }
        return tensor(w, new[] { outs, ins, c, c }).to(source.device);
    }
}
