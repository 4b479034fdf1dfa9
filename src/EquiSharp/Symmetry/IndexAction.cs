namespace EquiSharp.Symmetry;

/// <summary>
/// A signed permutation of the flat (row-major) index space of a tensor: entry <c>i</c> is sent to
/// <c>Target[i]</c> and multiplied by <c>Sign[i]</c> (±1). A weight W is invariant under the action when
/// <c>W[Target[i]] == Sign[i] * W[i]</c> for every i. Generators of a weight's symmetry group are IndexActions.
/// </summary>
public sealed class IndexAction
{
    /// <summary>Shape of the tensor whose flat index space this action permutes.</summary>
    public long[] Shape { get; }
    /// <summary>Image of each flat index.</summary>
    public int[] Target { get; }
    /// <summary>Sign of each image (all +1 for a plain permutation).</summary>
    public sbyte[] Sign { get; }
    /// <summary>Human-readable name used in error messages and orbit listings.</summary>
    public string Name { get; }

    public IndexAction(long[] shape, int[] target, sbyte[]? sign = null, string name = "action")
    {
        long size = TensorShape.Numel(shape);
        if (target.Length != size)
            throw new ArgumentException($"Action '{name}': target has {target.Length} entries, expected {size} for shape [{string.Join(", ", shape)}].", nameof(target));
        var seen = new bool[size];
        foreach (int t in target)
        {
            if (t < 0 || t >= size || seen[t])
                throw new ArgumentException($"Action '{name}' is not a permutation of the index space (index {t} is out of range or hit twice).", nameof(target));
            seen[t] = true;
        }
        if (sign != null && sign.Length != size)
            throw new ArgumentException($"Action '{name}': sign has {sign.Length} entries, expected {size}.", nameof(sign));
        if (sign != null && sign.Any(s => s != 1 && s != -1))
            throw new ArgumentException($"Action '{name}': signs must be +1 or -1.", nameof(sign));
        Shape = (long[])shape.Clone();
        Target = target;
        Sign = sign ?? Enumerable.Repeat((sbyte)1, (int)size).ToArray();
        Name = name;
    }

    /// <summary>Number of entries of the index space.</summary>
    public int Size => Target.Length;

    /// <summary>True when every sign is +1.</summary>
    public bool IsUnsigned => Sign.All(s => s == 1);

    /// <summary>The action that applies <paramref name="first"/> and then <paramref name="second"/>.</summary>
    public static IndexAction Compose(IndexAction first, IndexAction second)
    {
        if (!first.Shape.SequenceEqual(second.Shape))
            throw new ArgumentException($"Cannot compose '{first.Name}' and '{second.Name}': they act on different shapes.");
        var target = new int[first.Size];
        var sign = new sbyte[first.Size];
        for (int i = 0; i < target.Length; i++)
        {
            int mid = first.Target[i];
            target[i] = second.Target[mid];
            sign[i] = (sbyte)(first.Sign[i] * second.Sign[mid]);
        }
        return new IndexAction(first.Shape, target, sign, $"{first.Name} then {second.Name}");
    }

    /// <summary>Builds an action from a map on multi-indices (the most general helper; the others use it).</summary>
    public static IndexAction FromIndexMap(long[] shape, Func<long[], long[]> map, string name, Func<long[], sbyte>? sign = null)
    {
        int size = checked((int)TensorShape.Numel(shape));
        var target = new int[size];
        var signs = new sbyte[size];
        var idx = new long[shape.Length];
        var scratch = new long[shape.Length];   // the map may change its argument: a copy, reused (no allocation per entry)
        for (int flat = 0; flat < size; flat++)
        {
            TensorShape.Unflatten(flat, shape, idx);
            idx.CopyTo(scratch, 0);
            long[] image = map(scratch);
            for (int d = 0; d < shape.Length; d++)
                if (image[d] < 0 || image[d] >= shape[d])
                    throw new ArgumentException($"Action '{name}' maps an index outside axis {d} of size {shape[d]}.");
            target[flat] = (int)TensorShape.Flatten(image, shape);
            signs[flat] = sign?.Invoke(idx) ?? 1;
        }
        return new IndexAction(shape, target, signs, name);
    }

    /// <summary>Swaps two axes of equal size (e.g. the spatial transpose of a square kernel).</summary>
    public static IndexAction TransposeAxes(long[] shape, int axisA, int axisB)
    {
        CheckAxis(shape, axisA); CheckAxis(shape, axisB);
        if (shape[axisA] != shape[axisB])
            throw new ArgumentException($"Transposing axes {axisA} and {axisB} needs equal sizes, got {shape[axisA]} and {shape[axisB]}.");
        return FromIndexMap(shape, i => { (i[axisA], i[axisB]) = (i[axisB], i[axisA]); return i; }, $"transpose({axisA},{axisB})");
    }

    /// <summary>Reverses one axis (e.g. the spatial flip of a 1-D kernel, or the base order of a DNA filter).</summary>
    public static IndexAction ReverseAxis(long[] shape, int axis)
    {
        CheckAxis(shape, axis);
        return FromIndexMap(shape, i => { i[axis] = shape[axis] - 1 - i[axis]; return i; }, $"reverse({axis})");
    }

    /// <summary>Permutes the positions along one axis: position p goes to <c>permutation[p]</c>.</summary>
    public static IndexAction PermuteWithinAxis(long[] shape, int axis, int[] permutation, string? name = null)
    {
        CheckAxis(shape, axis);
        if (permutation.Length != shape[axis] || permutation.Distinct().Count() != permutation.Length || permutation.Any(p => p < 0 || p >= shape[axis]))
            throw new ArgumentException($"Expected a permutation of 0..{shape[axis] - 1} for axis {axis}, got [{string.Join(", ", permutation)}].");
        return FromIndexMap(shape, i => { i[axis] = permutation[i[axis]]; return i; }, name ?? $"permute({axis})");
    }

    /// <summary>Swaps the first and second half of an axis of even size (the two halves of a self-Cartesian input).</summary>
    public static IndexAction SwapHalves(long[] shape, int axis)
    {
        CheckAxis(shape, axis);
        if (shape[axis] % 2 != 0)
            throw new ArgumentException($"Swapping halves of axis {axis} needs an even size, got {shape[axis]}.");
        int half = (int)shape[axis] / 2;
        var perm = Enumerable.Range(0, 2 * half).Select(p => (p + half) % (2 * half)).ToArray();
        return PermuteWithinAxis(shape, axis, perm, $"swap-halves({axis})");
    }

    private static void CheckAxis(long[] shape, int axis)
    {
        if (axis < 0 || axis >= shape.Length)
            throw new ArgumentException($"Axis {axis} is out of range for a tensor of rank {shape.Length}.");
    }
}

/// <summary>Row-major index arithmetic shared by the engine.</summary>
public static class TensorShape
{
    public static long Numel(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    public static void Unflatten(long flat, long[] shape, long[] index)
    {
        for (int d = shape.Length - 1; d >= 0; d--) { index[d] = flat % shape[d]; flat /= shape[d]; }
    }

    public static long Flatten(long[] index, long[] shape)
    {
        long flat = 0;
        for (int d = 0; d < shape.Length; d++) flat = flat * shape[d] + index[d];
        return flat;
    }
}
