namespace EquiSharp.Symmetry;

/// <summary>
/// The weight-sharing pattern of an equivariant linear or quadratic map, derived from group actions (no hand-written
/// patterns). A map y = f(x) is equivariant, f(ρ_in(g)x) = ρ_out(g)f(x), exactly when its coefficients are constant on
/// the orbits of the diagonal action:
/// <list type="bullet">
/// <item>linear y_k = Σ_i W[k,i] x_i: orbits of g·(k, i) = (g·k, g·i) on (out, in) pairs;</item>
/// <item>quadratic y_k = Σ_ij A[k,i,j] x_i x_j: orbits of g·(k, i, j) = (g·k, g·i, g·j) on triples, optionally also
/// identifying A[k,i,j] with A[k,j,i] (x_i x_j = x_j x_i, so only their sum is identifiable).</item>
/// </list>
/// With channels, the index layout is (out point, out channel, in point, in channel[, in point, in channel]) and the
/// group acts on the point axes only.
/// </summary>
public sealed class EquivariantPattern
{
    /// <summary>"linear" or "quadratic".</summary>
    public string Map { get; }
    public GroupAction Input { get; }
    public GroupAction Output { get; }
    /// <summary>True when A[k,i,j] and A[k,j,i] (with their channels) are identified.</summary>
    public bool SymmetricPairs { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    /// <summary>The group acting on the weight's index space (one generator per group generator, plus the pair swap).</summary>
    public WeightSymmetry Symmetry { get; }
    /// <summary>The orbits = classes of shared weights.</summary>
    public OrbitPartition Partition { get; }

    private EquivariantPattern(string map, GroupAction input, GroupAction output, bool symmetricPairs, int inChannels, int outChannels, WeightSymmetry symmetry)
    {
        Map = map; Input = input; Output = output; SymmetricPairs = symmetricPairs;
        InChannels = inChannels; OutChannels = outChannels;
        Symmetry = symmetry;
        Partition = symmetry.Orbits();
    }

    /// <summary>Number of free parameters (orbits).</summary>
    public int FreeParameterCount => Partition.Count;

    /// <summary>Tying of the dense weight by the orbits (for <see cref="TiedWeight"/>).</summary>
    public OrbitTying Tying() => new(Symmetry);

    /// <summary>Pattern of an equivariant linear map; weight shape (M, outChannels, N, inChannels).</summary>
    public static EquivariantPattern Linear(GroupAction input, GroupAction output, int inChannels = 1, int outChannels = 1)
    {
        CheckSameGroup(input, output);
        CheckChannels(inChannels, outChannels);
        var shape = new long[] { output.Size, outChannels, input.Size, inChannels };
        var gens = new List<IndexAction>();
        for (int g = 0; g < input.Group.Generators.Count; g++)
        {
            var pin = input.GeneratorImages[g];
            var pout = output.GeneratorImages[g];
            gens.Add(IndexAction.FromIndexMap(shape, ix => { ix[0] = pout[ix[0]]; ix[2] = pin[ix[2]]; return ix; },
                $"{input.Group.GeneratorNames[g]} on (out, in)"));
        }
        var sym = new WeightSymmetry(shape, gens, $"{input.Group.Name} diagonal on (out: {output.Name}, in: {input.Name})");
        return new EquivariantPattern("linear", input, output, false, inChannels, outChannels, sym);
    }

    /// <summary>Pattern of an equivariant quadratic map; weight shape (M, outChannels, N, inChannels, N, inChannels).</summary>
    /// <param name="input">Action on the input points (the group's points).</param>
    /// <param name="output">Action of the same group on the output points.</param>
    /// <param name="symmetricPairs">Also identify A[k,o,i,c,j,d] with A[k,o,j,d,i,c].</param>
    /// <param name="inChannels">Channels per input point.</param>
    /// <param name="outChannels">Channels per output point.</param>
    public static EquivariantPattern Quadratic(GroupAction input, GroupAction output, bool symmetricPairs = false, int inChannels = 1, int outChannels = 1)
    {
        CheckSameGroup(input, output);
        CheckChannels(inChannels, outChannels);
        var shape = new long[] { output.Size, outChannels, input.Size, inChannels, input.Size, inChannels };
        if (TensorShape.Numel(shape) > 50_000_000)
            throw new ArgumentException($"The quadratic pattern would have {TensorShape.Numel(shape)} entries; use fewer points or channels.");
        var gens = new List<IndexAction>();
        for (int g = 0; g < input.Group.Generators.Count; g++)
        {
            var pin = input.GeneratorImages[g];
            var pout = output.GeneratorImages[g];
            gens.Add(IndexAction.FromIndexMap(shape, ix => { ix[0] = pout[ix[0]]; ix[2] = pin[ix[2]]; ix[4] = pin[ix[4]]; return ix; },
                $"{input.Group.GeneratorNames[g]} on (out, in, in)"));
        }
        if (symmetricPairs)
            gens.Add(IndexAction.FromIndexMap(shape, ix => { (ix[2], ix[4]) = (ix[4], ix[2]); (ix[3], ix[5]) = (ix[5], ix[3]); return ix; },
                "x_i x_j = x_j x_i"));
        string desc = $"{input.Group.Name} diagonal on (out: {output.Name}, in: {input.Name}, in: {input.Name})" + (symmetricPairs ? " × pair swap" : "");
        return new EquivariantPattern("quadratic", input, output, symmetricPairs, inChannels, outChannels, new WeightSymmetry(shape, gens, desc));
    }

    /// <summary>A weight-sharing class: its number, size, first member (multi-index) and the kinds of index coincidences it contains.</summary>
    public sealed record PatternClass(int Index, int Size, long[] Representative, string Kind);

    /// <summary>
    /// The classes in order. Kind names the coincidence pattern of the point indices (k = output point; i, j = input
    /// points), e.g. "k=i≠j"; when input and output are different sets, the pattern of the input points only.
    /// </summary>
    public IReadOnlyList<PatternClass> Classes()
    {
        var members = Partition.Members();
        var result = new List<PatternClass>();
        var ix = new long[Symmetry.Shape.Length];
        bool sameSet = Input.SameAs(Output);
        for (int o = 0; o < members.Length; o++)
        {
            var kinds = new List<string>();
            long[]? rep = null;
            foreach (int flat in members[o])
            {
                TensorShape.Unflatten(flat, Symmetry.Shape, ix);
                rep ??= (long[])ix.Clone();
                string kind = Kind(ix, sameSet);
                if (!kinds.Contains(kind)) kinds.Add(kind);
            }
            result.Add(new PatternClass(o, members[o].Count, rep!, string.Join(" or ", kinds)));
        }
        return result;
    }

    private string Kind(long[] ix, bool sameSet)
    {
        long k = ix[0], i = ix[2];
        var fibre = Output.PointMap;
        string In(long p, string name) => fibre is null ? "" : fibre[(int)p] == k ? $"{name}↦k" : $"{name}↦other";
        if (Map == "linear") return sameSet ? (k == i ? "k=i" : "k≠i") : fibre is null ? "-" : In(i, "i");
        long j = ix[4];
        if (!sameSet)
        {
            string eq = i == j ? "i=j" : "i≠j";
            return fibre is null ? eq : $"{In(i, "i")}, {In(j, "j")}, {eq}";
        }
        if (k == i && i == j) return "k=i=j";
        if (k == i) return "k=i≠j";
        if (k == j) return "k=j≠i";
        if (i == j) return "i=j≠k";
        return "k,i,j distinct";
    }

    /// <summary>
    /// The additive constraints of the permutation notes, eq. (28): A[h,h,k] + A[h,k,h] = A[k,h,k] + A[k,k,h] for all
    /// h &lt; k, on a tensor of shape (N, N, N) indexed (output k, input i, input j), as rows for
    /// <see cref="LinearConstraintTying"/>. (The notes write W^h_{hk} for A[h,h,k].)
    /// </summary>
    public static double[][] NotesAdditiveConstraints(int n)
    {
        if (n < 1) throw new ArgumentException($"Need N ≥ 1, got {n}.", nameof(n));
        int Flat(int k, int i, int j) => (k * n + i) * n + j;
        var rows = new List<double[]>();
        for (int h = 0; h < n; h++)
            for (int k = h + 1; k < n; k++)
            {
                var row = new double[n * n * n];
                row[Flat(h, h, k)] += 1; row[Flat(h, k, h)] += 1;
                row[Flat(k, h, k)] -= 1; row[Flat(k, k, h)] -= 1;
                rows.Add(row);
            }
        return rows.ToArray();
    }

    private static void CheckSameGroup(GroupAction input, GroupAction output)
    {
        if (!ReferenceEquals(input.Group, output.Group))
            throw new ArgumentException($"The input action is of {input.Group.Name} and the output action of {output.Group.Name}: both must be actions of the same group object.");
    }

    private static void CheckChannels(int inChannels, int outChannels)
    {
        if (inChannels < 1) throw new ArgumentException($"in_channels must be positive, got {inChannels}.", nameof(inChannels));
        if (outChannels < 1) throw new ArgumentException($"out_channels must be positive, got {outChannels}.", nameof(outChannels));
    }
}
