using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Layers.Group;

/// <summary>
/// Batch normalisation of G-feature maps with statistics, scale and shift shared over the group axis: the |G|
/// channels of one G-feature map are one feature (a BatchNorm3d over (B, C, |G|, H, W)). Per-channel statistics would
/// differ between g and u·g and break equivariance; shared ones commute with every L_u (the normalisation is the same
/// affine map on every channel of a G-feature map, and the batch statistics are invariant under L_u).
/// </summary>
public sealed class GroupBatchNorm2d : nn.Module<Tensor, Tensor>, IEquivariantModule
{
    private readonly BatchNorm3d norm;

    public PlanarGroup Group { get; }
    /// <summary>G-feature maps C.</summary>
    public long FeatureMaps { get; }

    /// <param name="group">Group of the feature maps.</param>
    /// <param name="featureMaps">G-feature maps C (the input has C·|G| channels).</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="momentum">Running-statistics momentum.</param>
    /// <param name="device">Device.</param>
    /// <param name="dtype">Parameter type.</param>
    public GroupBatchNorm2d(PlanarGroup group, long featureMaps, double eps = 1e-5, double momentum = 0.1, Device? device = null, ScalarType? dtype = null)
        : base(nameof(GroupBatchNorm2d))
    {
        if (featureMaps <= 0) throw new ArgumentException($"{nameof(GroupBatchNorm2d)}: feature maps must be positive, got {featureMaps}.", nameof(featureMaps));
        Group = group;
        FeatureMaps = featureMaps;
        norm = nn.BatchNorm3d(featureMaps, eps, momentum, device: device, dtype: dtype);
        register_module("norm", norm);
    }

    public override Tensor forward(Tensor input)
    {
        Group.CheckGroupChannels(input, GetName());
        if (input.shape[1] != FeatureMaps * Group.Order)
            throw new ArgumentException($"{GetName()}: expected {FeatureMaps}·{Group.Order} channels, got {input.shape[1]}.");
        return norm.forward(input.unflatten(1, new[] { FeatureMaps, Group.Order })).flatten(1, 2);
    }

    public string InputDescription => $"(B, {FeatureMaps}·{Group.Order}, H, W): {Group.Name} feature maps";
    public string OutputDescription => "the same shape, normalised per G-feature map";
    public string SymmetryDescription => $"statistics shared over the group axis: bn(L_u f) = L_u bn(f) for u in {Group.Name}";
    public long FreeParameterCount => 2 * FeatureMaps;
    public long DenseParameterCount(long? size = null) => 2 * FeatureMaps * Group.Order;

    /// <summary>
    /// A plain <see cref="BatchNorm2d"/> over C·|G| channels with scale, shift and running statistics repeated |G| times:
    /// returned in eval mode, where it is the same function (in training mode a plain BatchNorm2d would take per-channel statistics).
    /// </summary>
    public nn.Module<Tensor, Tensor> ToDenseModule(long? size = null)
    {
        var dense = nn.BatchNorm2d(FeatureMaps * Group.Order, norm.eps, norm.momentum ?? 0.1, device: norm.weight!.device, dtype: norm.weight.dtype);
        using (no_grad())
        {
            dense.weight!.copy_(norm.weight!.repeat_interleave(Group.Order));
            dense.bias!.copy_(norm.bias!.repeat_interleave(Group.Order));
            dense.running_mean!.copy_(norm.running_mean!.repeat_interleave(Group.Order));
            dense.running_var!.copy_(norm.running_var!.repeat_interleave(Group.Order));
        }
        dense.eval();   // the same function only with running statistics
        return dense;
    }

    /// <summary>Equivariance in training mode (batch statistics), the harder case; running statistics are restored afterwards.</summary>
    public double MeasureEquivariance(long size, Generator? generator = null)
    {
        var x = randn(new[] { 4, FeatureMaps * Group.Order, size, size }, generator: generator).mul(KeptScalar.Of(3)).add(KeptScalar.Of(1), KeptScalar.One);
        var saved = norm.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        bool wasTraining = training;
        train();
        try { return GroupEquivariance.Measure(Group, forward, x, true, true); }
        finally
        {
            norm.load_state_dict(saved);
            train(wasTraining);
        }
    }

    public override string ToString() => $"{GetName()}({Group.Name}, {FeatureMaps} feature maps)";
}
