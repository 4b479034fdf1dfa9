using static TorchSharp.torch;

namespace EquiSharp.Verification;

/// <summary>
/// One built-in exactness check: it runs a layer on a transformed input and measures how far the output is from
/// the expected transformed output, relative to the output's scale. <c>equisharp verify</c> runs every registered check.
/// </summary>
public sealed record EquivarianceCheck(string Name, Func<double> Measure, double Tolerance = 1e-5)
{
    /// <summary>Runs the check with its own dispose scope. A deviation that is not a number (the compared output is all
    /// zeros, so the comparison proves nothing, or it is not finite) fails.</summary>
    public CheckResult Run()
    {
        using var scope = NewDisposeScope();
        double dev;
        try { dev = Measure(); }
        catch (Exception e) { return new CheckResult(Name, double.NaN, false, e.Message); }
        if (double.IsNaN(dev)) return new CheckResult(Name, dev, false, "nothing compared: the reference output is all zeros or not finite");
        return new CheckResult(Name, dev, dev <= Tolerance, null);
    }

    /// <summary>
    /// One check per block of a comparison that yields several (e.g. the gradients of the input, θ, γ and β), named
    /// "<paramref name="name"/> [block]", so each block's deviation is reported on its own (a small block cannot hide
    /// behind a large one's scale). The comparison runs once, on the first of them that is run.
    /// </summary>
    /// <param name="name">Name shared by the blocks.</param>
    /// <param name="blocks">Block names, in the order <paramref name="compare"/> returns them.</param>
    /// <param name="compare">Returns (actual, expected) per block.</param>
    /// <param name="tolerance">Relative tolerance of every block.</param>
    public static IEnumerable<EquivarianceCheck> PerBlock(string name, string[] blocks, Func<(Tensor Actual, Tensor Expected)[]> compare, double tolerance = 1e-5)
    {
        var deviations = new Lazy<double[]>(() =>
        {
            using var scope = NewDisposeScope();
            var pairs = compare();
            if (pairs.Length != blocks.Length) throw new InvalidOperationException($"{name}: {pairs.Length} blocks compared, {blocks.Length} named.");
            return pairs.Select(p => Deviation.Relative(p.Actual, p.Expected)).ToArray();
        });
        return blocks.Select((block, k) => new EquivarianceCheck($"{name} [{block}]", () => deviations.Value[k], tolerance));
    }
}

/// <summary>Outcome of a check: the relative maximum deviation and whether it is within tolerance.</summary>
public sealed record CheckResult(string Name, double MaxDeviation, bool Ok, string? Error);

/// <summary>Deviation measures shared by checks and tests.</summary>
public static class Deviation
{
    /// <summary>
    /// max|a − b| / max|b|: the relative maximum deviation used by every exactness claim. NaN when b is all zeros: a
    /// comparison against nothing proves nothing, and NaN fails every "≤ tolerance" test.
    /// </summary>
    public static double Relative(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        // in float64, so float64 comparisons keep their precision (and any floating type is accepted)
        double scale = expected.abs().max().to(float64).item<double>();
        double diff = (actual.to(float64) - expected.to(float64)).abs().max().item<double>();
        return scale > 0 ? diff / scale : double.NaN;
    }

    /// <summary>max|Y − Yᵀ| / max|Y| over the last two axes: how far a batch of pair maps is from symmetric.</summary>
    public static double Asymmetry(Tensor y) => Relative(y, y.transpose(-1, -2));
}

/// <summary>Marks a static class with a public static <c>IEnumerable&lt;EquivarianceCheck&gt; All()</c>: one family of built-in checks.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CheckFamilyAttribute : Attribute
{
    /// <summary>Order of the family in <c>equisharp verify</c> (lower first).</summary>
    public int Order { get; init; }
}

/// <summary>Registry of every built-in check: each layer family is a [CheckFamily] class, found by reflection so adding one touches no list.</summary>
public static class CheckRegistry
{
    /// <summary>All checks, family by family.</summary>
    public static IEnumerable<EquivarianceCheck> All() =>
        typeof(CheckRegistry).Assembly.GetTypes()
            .Select(t => (Type: t, Attr: t.GetCustomAttributes(typeof(CheckFamilyAttribute), false).Cast<CheckFamilyAttribute>().FirstOrDefault()))
            .Where(x => x.Attr is not null)
            .OrderBy(x => x.Attr!.Order).ThenBy(x => x.Type.FullName, StringComparer.Ordinal)
            .SelectMany(x => (IEnumerable<EquivarianceCheck>)x.Type.GetMethod("All")!.Invoke(null, null)!);
}
