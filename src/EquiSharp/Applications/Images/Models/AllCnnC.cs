using EquiSharp.Layers.Group;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Images.Models;

/// <summary>
/// All-CNN-C (Springenberg et al. 2014, "Striving for simplicity"; the p4/p4m paper's appendix C) on the p4/p4m
/// layers, for 32×32 images, width W = <see cref="PlanarCnnSpec.Width"/> (96 in the original):
/// 3×3 conv W, 3×3 conv W, strided conv W (32 → 16), 3×3 conv 2W, 3×3 conv 2W, strided conv 2W (16 → 8),
/// 3×3 'valid' conv 2W (8 → 6), 1×1 conv 2W, 1×1 conv classes; ReLU after every layer (the last one included, as in
/// the original figure), group batch norm before the ReLU of the first eight, dropout after the two strided layers;
/// then max over the group axis and the mean over the 6×6 maps: the class scores.
/// One change from the original: the strided layers use 4×4 windows (stride 2, padding 1) instead of 3×3. On an even
/// map a 3×3 window at stride 2 samples centres 0, 2, …, n−2, a grid that a 90° rotation about the centre (n−1)/2 does
/// not map onto itself, so no 3×3 stride-2 layer on 32×32 inputs can be exactly equivariant; 4×4 windows at stride 2
/// with padding 1 have centres 0.5, 2.5, …, n−1.5, a symmetric grid ((n + 2 − 4) divisible by 2). The Z2 variant uses
/// the same layers, so the three differ only in their group.
/// </summary>
public sealed class AllCnnC : PlanarClassifier
{
    /// <summary>Side of the strided layers' windows (see the class summary for why not 3).</summary>
    public const int StridedKernel = 4;

    public AllCnnC(PlanarCnnSpec spec, Device? device = null) : base(nameof(AllCnnC), spec, Layers(spec, device)) { }

    private static List<(string, nn.Module<Tensor, Tensor>)> Layers(PlanarCnnSpec spec, Device? device)
    {
        var group = PlanarGroup.Named(spec.Group);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long w = spec.Width, w2 = 2 * spec.Width;
        AddConvBlock(layers, group, spec, 1, spec.InputChannels, w, 3, padding: 1, dropout: false, device: device);
        AddConvBlock(layers, group, spec, 2, w, w, 3, padding: 1, dropout: false, device: device);
        AddConvBlock(layers, group, spec, 3, w, w, StridedKernel, stride: 2, padding: 1, device: device);
        AddConvBlock(layers, group, spec, 4, w, w2, 3, padding: 1, dropout: false, device: device);
        AddConvBlock(layers, group, spec, 5, w2, w2, 3, padding: 1, dropout: false, device: device);
        AddConvBlock(layers, group, spec, 6, w2, w2, StridedKernel, stride: 2, padding: 1, device: device);
        AddConvBlock(layers, group, spec, 7, w2, w2, 3, dropout: false, device: device);
        AddConvBlock(layers, group, spec, 8, w2, w2, 1, dropout: false, device: device);
        layers.Add(("conv9", new GroupConv2d(group, w2, spec.Classes, 1, device: device)));
        layers.Add(("relu9", nn.ReLU()));
        return layers;
    }

    public override string InputDescription => $"(B, {Spec.InputChannels}, 32, 32) images (any n ≥ 28 divisible by 4 keeps every grid symmetric)";
}
