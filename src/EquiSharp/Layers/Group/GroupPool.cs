using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Group;

/// <summary>
/// Pooling over the whole group axis (the subgroup pooling of the paper's appendix B with H = G; the result lives
/// on the cosets G/G, i.e. on Z2): (B, C·|G|, H, W) → (B, C, H, W), max or mean over the |G| channels of each
/// G-feature map. The output is an ordinary image that rotates (and mirrors) with the input: L_u f ↦ L_u (pool f).
/// </summary>
public sealed class GroupPool : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    /// <summary>The group whose axis is pooled.</summary>
    public PlanarGroup Group { get; }
    /// <summary>"max" or "mean".</summary>
    public string Reduction { get; }

    /// <param name="group">The group of the input feature maps.</param>
    /// <param name="reduction">"max" or "mean".</param>
    public GroupPool(PlanarGroup group, string reduction = "max") : base(nameof(GroupPool))
    {
        if (reduction is not ("max" or "mean"))
            throw new ArgumentException($"{nameof(GroupPool)}: reduction must be 'max' or 'mean', got '{reduction}'.", nameof(reduction));
        Group = group;
        Reduction = reduction;
    }

    public override Tensor forward(Tensor input)
    {
        Group.CheckGroupChannels(input, GetName());
        var grouped = input.unflatten(1, new[] { -1L, Group.Order });
        return Reduction == "max" ? grouped.amax(new long[] { 2 }) : grouped.mean(new long[] { 2 });
    }

    public string InputDescription => $"(B, C·{Group.Order}, H, W): {Group.Name} feature maps";
    public string OutputDescription => "(B, C, H, W): images";
    public string SymmetryDescription => $"{Reduction} over the group axis (appendix B): pool(L_u f) = L_u pool(f) for u in {Group.Name}, the group axis disappears";
    public long FreeParameterCount => 0;
    public long DenseParameterCount(long? size = null) => 0;

    /// <summary>Plain modules only: unflatten the group axis, a {max, avg} 3-D pool of extent (|G|, 1, 1), flatten back.</summary>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null) => nn.Sequential(
        ("unflatten", nn.Unflatten(1, new[] { -1L, Group.Order })),
        ("pool", Reduction == "max" ? nn.MaxPool3d(new long[] { Group.Order, 1, 1 }) : nn.AvgPool3d(new long[] { Group.Order, 1, 1 })),
        ("flatten", nn.Flatten(1, 2)));

    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        var x = randn(new[] { 2, 3L * Group.Order, size, size }, generator: generator);
        return GroupEquivariance.Measure(Group, forward, x, true, false);
    }

    public override string ToString() => $"{GetName()}({Reduction} over {Group.Name})";
}
