using EquiSharp.Symmetry;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Group;

/// <summary>
/// The point group of a planar group-equivariant CNN (Cohen &amp; Welling 2016): the trivial group (plain CNN, "Z2"),
/// the four rotations by multiples of 90° ("p4") or those and their mirror images ("p4m", the dihedral group of order 8).
/// <para>
/// Element g = (s, k), stored at index s·4 + k, is m^s r^k: rotate by k·90°, then mirror if s = 1. On a square grid
/// of side n (row a, column b) the rotation is r(a, b) = (n−1−b, a) — <c>torch.rot90(x, 1, (-2, -1))</c> realises
/// (L_r f)(p) = f(r⁻¹p) — and the mirror is m(a, b) = (a, n−1−b), a flip of the columns. The relation m r m = r⁻¹
/// gives the product (s, k)·(t, l) = (s ⊕ t, (−1)^t k + l mod 4).
/// </para>
/// <para>
/// A G-feature map is stored as (B, C·|G|, H, W), channel c·|G| + g holding f_c(g, ·). The group acts on it by
/// (L_u f)(g, x) = f(u⁻¹g, u⁻¹x) (paper §2): the spatial axes are transformed and the group axis is permuted, new[g] = old[u⁻¹g].
/// </para>
/// </summary>
public sealed class PlanarGroup
{
    private readonly int[,] product;
    private readonly int[] inverse;

    /// <summary>"Z2", "p4" or "p4m".</summary>
    public string Name { get; }
    /// <summary>Number of elements |G|: 1, 4 or 8.</summary>
    public int Order { get; }
    /// <summary>True for p4m (the group contains mirrors).</summary>
    public bool HasMirror { get; }
    /// <summary>Indices of the generators: r for p4, r and m for p4m, none for the trivial group.</summary>
    public IReadOnlyList<int> Generators { get; }

    /// <summary>The trivial point group: only translations, a plain CNN.</summary>
    public static PlanarGroup Z2 { get; } = new("Z2", 1, false);
    /// <summary>Translations and rotations by multiples of 90°.</summary>
    public static PlanarGroup P4 { get; } = new("p4", 4, false);
    /// <summary>Translations, rotations by multiples of 90° and mirrors.</summary>
    public static PlanarGroup P4m { get; } = new("p4m", 8, true);

    /// <summary>The group with this name (z2, p4, p4m; case-insensitive).</summary>
    public static PlanarGroup Named(string name) => name.ToLowerInvariant() switch
    {
        "z2" => Z2,
        "p4" => P4,
        "p4m" => P4m,
        _ => throw new ArgumentException($"Unknown planar group '{name}' (expected z2, p4 or p4m)."),
    };

    private PlanarGroup(string name, int order, bool mirror)
    {
        Name = name;
        Order = order;
        HasMirror = mirror;
        product = new int[order, order];
        inverse = new int[order];
        for (int a = 0; a < order; a++)
            for (int b = 0; b < order; b++)
            {
                int s = a / 4, k = a % 4, t = b / 4, l = b % 4;
                int rot = ((t == 0 ? k : -k) + l) % 4;
                product[a, b] = order == 1 ? 0 : ((s ^ t) * 4 + (rot + 4) % 4) % order;
            }
        for (int a = 0; a < order; a++)
            for (int b = 0; b < order; b++)
                if (product[a, b] == 0) inverse[a] = b;
        Generators = order == 1 ? Array.Empty<int>() : mirror ? new[] { 1, 4 } : new[] { 1 };
    }

    /// <summary>The product a·b (apply b, then a, as maps of the plane).</summary>
    public int Multiply(int a, int b) => product[a, b];
    /// <summary>The inverse of g.</summary>
    public int Inverse(int g) => inverse[g];
    /// <summary>A readable name of element g: "e", "r", "r2", "r3", "m", "mr", "mr2", "mr3".</summary>
    public string ElementName(int g) => (g / 4 == 1 ? "m" : "") + (g % 4) switch { 0 => g / 4 == 1 ? "" : "e", 1 => "r", int k => $"r{k}" };

    /// <summary>Where element g sends grid point (a, b) of an n×n grid (kernel or image): m^s r^k (a, b).</summary>
    public (long Row, long Col) MapPoint(int g, long a, long b, long n)
    {
        for (int k = 0; k < g % 4; k++) (a, b) = (n - 1 - b, a);
        if (g / 4 == 1) b = n - 1 - b;
        return (a, b);
    }

    /// <summary>L_u on an image batch (…, H, W) without group axis: rotate by k·90°, then mirror the columns if s = 1.</summary>
    public Tensor TransformImage(Tensor x, int u)
    {
        var y = u % 4 == 0 ? x.alias() : rot90(x, u % 4, (-2, -1));
        return u / 4 == 1 ? y.flip(-1) : y;
    }

    /// <summary>
    /// L_u on a G-feature map (B, C·|G|, H, W): (L_u f)(g, x) = f(u⁻¹g, u⁻¹x) — the spatial transform plus the
    /// permutation new[g] = old[u⁻¹g] of the group axis.
    /// </summary>
    public Tensor TransformFeatures(Tensor y, int u)
    {
        CheckGroupChannels(y, "TransformFeatures");
        var spatial = TransformImage(y, u);
        if (Order == 1) return spatial;
        var source = tensor(Enumerable.Range(0, Order).Select(g => (long)Multiply(Inverse(u), g)).ToArray(), device: y.device);
        var grouped = spatial.unflatten(1, new[] { -1L, Order });
        return grouped.index_select(2, source).flatten(1, 2);
    }

    /// <summary>
    /// The index action of element u on a kernel or bias whose output axis (0) holds (f, g), input axis (1) holds
    /// (c, h) when <paramref name="inGroup"/> is true, and the last two axes (if any) are a square spatial window:
    /// (f, g, c, h, x) ↦ (f, u·g, c, u·h, u·x). A kernel invariant under it for every u satisfies W[u g, u h, u x] =
    /// W[g, h, x], i.e. W[g, h, x] = W[e, g⁻¹h, g⁻¹x] = ψ[g⁻¹h, g⁻¹x] (paper eqs. 1–2 with the shift removed).
    /// </summary>
    public IndexAction KernelAction(long[] shape, int u, bool inGroup)
    {
        bool spatial = shape.Length == 4;
        if (spatial && shape[2] != shape[3])
            throw new ArgumentException($"{Name}: group filters need a square kernel, got {shape[2]}×{shape[3]}.");
        if (shape[0] % Order != 0 || (inGroup && shape[1] % Order != 0))
            throw new ArgumentException($"{Name}: kernel shape [{string.Join(", ", shape)}] does not hold |G| = {Order} group elements per channel.");
        long k = spatial ? shape[2] : 0;
        return IndexAction.FromIndexMap(shape, i =>
        {
            i[0] = i[0] / Order * Order + Multiply(u, (int)(i[0] % Order));
            if (inGroup) i[1] = i[1] / Order * Order + Multiply(u, (int)(i[1] % Order));
            if (spatial) (i[2], i[3]) = MapPoint(u, i[2], i[3], k);
            return i;
        }, $"{Name}:{ElementName(u)}");
    }

    /// <summary>The weight symmetry generated by <see cref="KernelAction"/> of every generator.</summary>
    public WeightSymmetry KernelSymmetry(long[] shape, bool inGroup) =>
        new(shape, Generators.Select(u => KernelAction(shape, u, inGroup)),
            Order == 1 ? "none (Z2)" : $"{Name}: (f,g,c,h,x) ↦ (f,u·g,c,u·h,u·x) for u in {{{string.Join(", ", Generators.Select(ElementName))}}}");

    /// <summary>Throws unless y is (B, C·|G|, H, W).</summary>
    public void CheckGroupChannels(Tensor y, string who)
    {
        if (y.dim() != 4 || y.shape[1] % Order != 0)
            throw new ArgumentException($"{who}: expected a {Name} feature map (B, C·{Order}, H, W), got [{string.Join(", ", y.shape)}].");
    }

    public override string ToString() => Name;
}
