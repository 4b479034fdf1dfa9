using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Symmetry;

/// <summary>
/// How a weight tensor is built from a small vector of free parameters θ. Pure description (CPU arrays);
/// <see cref="TiedWeight"/> turns it into a module with device buffers.
/// </summary>
public abstract class WeightTying
{
    /// <summary>Shape of the materialised weight.</summary>
    public long[] Shape { get; }
    /// <summary>Length of θ.</summary>
    public abstract int FreeParameterCount { get; }
    /// <summary>How many weight entries each free parameter fills (for initialisation and documentation).</summary>
    public abstract int[] Multiplicities { get; }

    /// <summary>
    /// For each free parameter, the largest number of entries it fills inside one slice of the weight along
    /// <paramref name="axis"/> (for a conv kernel and axis 0: inside one output channel's filter). Ties inside a
    /// filter make the entries of one receptive field correlated (the SCNN kernels); ties across filters (p4, reverse
    /// complement) do not — initialisation scales by this count, not by the orbit size.
    /// </summary>
    public abstract int[] MultiplicitiesWithinSlices(int axis);

    protected WeightTying(long[] shape) { Shape = (long[])shape.Clone(); }
}

/// <summary>
/// Tying by the orbits of a <see cref="WeightSymmetry"/>: W = sign ⊙ θ[index] (one gather). Autograd's backward of
/// the gather is a scatter-add, so ∂L/∂θ_o = Σ_{e ∈ orbit o} sign_e ∂L/∂W_e — the SCNN paper's eqs. (3) and (5).
/// </summary>
public sealed class OrbitTying : WeightTying
{
    public WeightSymmetry Symmetry { get; }
    public OrbitPartition Partition { get; }
    public override int FreeParameterCount => Partition.Count;
    public override int[] Multiplicities { get; }

    public OrbitTying(WeightSymmetry symmetry) : base(symmetry.Shape)
    {
        Symmetry = symmetry;
        Partition = symmetry.Orbits();
        Multiplicities = Partition.Multiplicities();
    }

    public override int[] MultiplicitiesWithinSlices(int axis)
    {
        if (axis < 0 || axis >= Shape.Length)
            throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is outside a weight of rank {Shape.Length}.");
        long inner = 1;
        for (int a = axis + 1; a < Shape.Length; a++) inner *= Shape[a];
        long extent = Shape[axis], outer = Partition.OrbitOf.Length / Math.Max(1, inner * extent);
        var best = new int[FreeParameterCount];
        var count = new int[FreeParameterCount];   // per orbit, within the current slice; reset through `touched`
        var touched = new List<int>();
        var orbitOf = Partition.OrbitOf;
        for (long slice = 0; slice < extent; slice++)
        {
            for (long before = 0; before < outer; before++)
                for (long e = (before * extent + slice) * inner, end = e + inner; e < end; e++)
                {
                    int o = orbitOf[e];
                    if (o < 0) continue;
                    if (count[o]++ == 0) touched.Add(o);
                    if (count[o] > best[o]) best[o] = count[o];
                }
            foreach (int o in touched) count[o] = 0;
            touched.Clear();
        }
        return best;
    }
}

/// <summary>
/// Tying by linear equality constraints A·vec(W) = 0: W = B·θ with B an orthonormal basis of the null space of A.
/// Then ∂L/∂θ = Bᵀ ∂L/∂W, and a gradient step on θ moves W by the orthogonal projection BBᵀ(−α ∂L/∂W) onto
/// the constraint space (the "additive constraints" of the permutation notes, eq. 28–29).
/// </summary>
public sealed class LinearConstraintTying : WeightTying
{
    /// <summary>Orthonormal basis, row-major (N × k).</summary>
    public double[,] Basis { get; }
    public override int FreeParameterCount => Basis.GetLength(1);
    public override int[] Multiplicities { get; }

    /// <param name="shape">Weight shape (N = product of sizes).</param>
    /// <param name="constraints">Rows of A, each of length N: every row r requires Σ_e A[r,e]·W_e = 0.</param>
    /// <param name="tolerance">Singular values below this (relative to the largest) count as zero.</param>
    public LinearConstraintTying(long[] shape, double[][] constraints, double tolerance = 1e-10) : base(shape)
    {
        int n = checked((int)TensorShape.Numel(shape));
        foreach (var (row, r) in constraints.Select((row, r) => (row, r)))
            if (row.Length != n)
                throw new ArgumentException($"Constraint row {r} has {row.Length} coefficients, expected {n} (one per weight entry).");
        Basis = NullSpace(constraints, n, tolerance);
        Multiplicities = Enumerable.Repeat(1, FreeParameterCount).ToArray();
    }

    /// <summary>A basis vector may fill many entries with different weights; initialisation treats each as one entry.</summary>
    public override int[] MultiplicitiesWithinSlices(int axis) => (int[])Multiplicities.Clone();

    private static double[,] NullSpace(double[][] rows, int n, double tolerance)
    {
        if (rows.Length == 0)
        {
            var eye = new double[n, n];
            for (int i = 0; i < n; i++) eye[i, i] = 1;
            return eye;
        }
        using var scope = NewDisposeScope();
        var a = torch.tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, n }, dtype: float64);
        // full SVD: the right singular vectors beyond the rank span the null space
        var (_, s, vh) = linalg.svd(a, fullMatrices: true);
        double smax = s.numel() > 0 ? s.max().item<double>() : 0;
        long rank = s.numel() == 0 ? 0 : (s > KeptScalar.Of(tolerance * Math.Max(smax, 1e-300))).sum().item<long>();
        var basis = vh[TensorIndex.Slice(rank, null)].t().contiguous();
        int k = (int)basis.shape[1];
        var data = basis.data<double>().ToArray();
        var result = new double[n, k];
        for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) result[i, j] = data[i * k + j];
        return result;
    }
}
