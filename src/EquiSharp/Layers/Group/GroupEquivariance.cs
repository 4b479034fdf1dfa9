using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Layers.Group;

/// <summary>
/// Measures how far a map between planar feature maps is from commuting with the group: for each generator u,
/// max|f(L_u x) − L_u f(x)| / max|L_u f(x)|, the largest over the generators (0 for an exact layer). Checking the
/// generators suffices: if f commutes with L_a and L_b it commutes with every product of them.
/// </summary>
public static class GroupEquivariance
{
    /// <param name="group">The group whose generators are tried.</param>
    /// <param name="map">The layer or network.</param>
    /// <param name="input">A batch; it is a G-feature map when <paramref name="inputHasGroupAxis"/>, else plain images.</param>
    /// <param name="inputHasGroupAxis">Whether L_u permutes the input's group axis.</param>
    /// <param name="outputHasGroupAxis">Whether L_u permutes the output's group axis (false for invariant pooling).</param>
    /// <param name="outputIsSpatial">Whether the output has spatial axes (false for class scores, which must be invariant).</param>
    public static double Measure(PlanarGroup group, Func<Tensor, Tensor> map, Tensor input, bool inputHasGroupAxis, bool outputHasGroupAxis,
        bool outputIsSpatial = true)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var y = map(input);
        double worst = 0;
        foreach (int u in group.Generators)
        {
            var xu = inputHasGroupAxis ? group.TransformFeatures(input, u) : group.TransformImage(input, u);
            var expected = !outputIsSpatial ? y : outputHasGroupAxis ? group.TransformFeatures(y, u) : group.TransformImage(y, u);
            worst = Math.Max(worst, Deviation.Relative(map(xu), expected));
        }
        return worst;
    }
}
