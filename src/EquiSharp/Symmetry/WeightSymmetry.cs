namespace EquiSharp.Symmetry;

/// <summary>
/// A finite group acting on the index space of a weight tensor, given by generators (signed permutations).
/// Its orbits are the classes of tied entries: all entries of an orbit share one free parameter (up to sign).
/// </summary>
public sealed class WeightSymmetry
{
    public long[] Shape { get; }
    public IReadOnlyList<IndexAction> Generators { get; }
    /// <summary>A short description of the group, e.g. "transpose(2,3) × swap-halves(1)".</summary>
    public string Description { get; }

    public WeightSymmetry(long[] shape, IEnumerable<IndexAction> generators, string? description = null)
    {
        Shape = (long[])shape.Clone();
        Generators = generators.ToList();
        foreach (var g in Generators)
            if (!g.Shape.SequenceEqual(Shape))
                throw new ArgumentException($"Generator '{g.Name}' acts on shape [{string.Join(", ", g.Shape)}], the weight has shape [{string.Join(", ", Shape)}].");
        Description = description ?? (Generators.Count == 0 ? "trivial" : string.Join(" × ", Generators.Select(g => g.Name)));
    }

    /// <summary>Number of weight entries.</summary>
    public int Size => checked((int)TensorShape.Numel(Shape));

    /// <summary>Computes the orbits by union-find over the generators (with sign parity for signed actions).</summary>
    public OrbitPartition Orbits()
    {
        int n = Size;
        var parent = new int[n];
        var parity = new byte[n];   // sign of entry relative to its parent: 0 = same, 1 = opposite
        var zero = new bool[n];     // root marked when the orbit contains an entry equal to its own negative
        for (int i = 0; i < n; i++) parent[i] = i;

        (int root, byte par) Find(int i)
        {
            byte p = 0;
            int r = i;
            while (parent[r] != r) { p ^= parity[r]; r = parent[r]; }
            // path compression keeping parities consistent
            int cur = i; byte curPar = p;
            while (parent[cur] != cur)
            {
                int next = parent[cur]; byte nextPar = (byte)(curPar ^ parity[cur]);
                parent[cur] = r; parity[cur] = curPar;
                cur = next; curPar = nextPar;
            }
            return (r, p);
        }

        foreach (var g in Generators)
            for (int i = 0; i < n; i++)
            {
                // constraint: W[g(i)] = sign * W[i]
                var (ra, pa) = Find(i);
                var (rb, pb) = Find(g.Target[i]);
                byte rel = (byte)(g.Sign[i] == 1 ? 0 : 1);
                if (ra == rb)
                {
                    if ((pa ^ pb) != rel) zero[ra] = true;
                    continue;
                }
                parent[rb] = ra;
                parity[rb] = (byte)(pa ^ pb ^ rel);
                zero[ra] |= zero[rb];
            }

        // number orbits in order of their first entry (deterministic, row-major)
        var orbitOf = new int[n];
        var sign = new sbyte[n];
        var rootToOrbit = new Dictionary<int, int>();
        var zeroRoots = new HashSet<int>();
        for (int i = 0; i < n; i++) { var (r, _) = Find(i); if (zero[r]) zeroRoots.Add(r); }
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            var (r, p) = Find(i);
            if (zeroRoots.Contains(r)) { orbitOf[i] = -1; sign[i] = 0; continue; }
            if (!rootToOrbit.TryGetValue(r, out int o)) { o = count++; rootToOrbit[r] = o; }
            orbitOf[i] = o;
            sign[i] = (sbyte)(p == 0 ? 1 : -1);
        }
        // normalise signs so the first entry of every orbit has sign +1
        var firstSign = new sbyte[count];
        for (int i = 0; i < n; i++) if (orbitOf[i] >= 0 && firstSign[orbitOf[i]] == 0) firstSign[orbitOf[i]] = sign[i];
        for (int i = 0; i < n; i++) if (orbitOf[i] >= 0) sign[i] = (sbyte)(sign[i] * firstSign[orbitOf[i]]);
        return new OrbitPartition(Shape, orbitOf, sign, count);
    }

    /// <summary>True when <paramref name="weight"/> (flat, row-major) is invariant under every generator within <paramref name="tolerance"/>.</summary>
    public bool IsInvariant(ReadOnlySpan<float> weight, float tolerance = 0f)
    {
        foreach (var g in Generators)
            for (int i = 0; i < weight.Length; i++)
                if (MathF.Abs(weight[g.Target[i]] - g.Sign[i] * weight[i]) > tolerance) return false;
        return true;
    }
}

/// <summary>
/// The orbits of a weight symmetry: entry i equals <c>Sign[i] * theta[OrbitOf[i]]</c>; entries with
/// <c>OrbitOf[i] = -1</c> are forced to zero (an orbit that contains both w and −w).
/// </summary>
public sealed class OrbitPartition
{
    public long[] Shape { get; }
    public int[] OrbitOf { get; }
    public sbyte[] Sign { get; }
    /// <summary>Number of orbits = number of free parameters.</summary>
    public int Count { get; }

    internal OrbitPartition(long[] shape, int[] orbitOf, sbyte[] sign, int count)
    {
        Shape = shape; OrbitOf = orbitOf; Sign = sign; Count = count;
    }

    /// <summary>Size of each orbit (how many weight entries a free parameter fills).</summary>
    public int[] Multiplicities()
    {
        var m = new int[Count];
        foreach (int o in OrbitOf) if (o >= 0) m[o]++;
        return m;
    }

    /// <summary>True when no entry carries a minus sign or is forced to zero (materialisation is a plain gather).</summary>
    public bool IsUnsigned => Sign.All(s => s == 1);

    /// <summary>The flat indices of the entries in each orbit.</summary>
    public List<int>[] Members()
    {
        var members = Enumerable.Range(0, Count).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < OrbitOf.Length; i++) if (OrbitOf[i] >= 0) members[OrbitOf[i]].Add(i);
        return members;
    }
}
