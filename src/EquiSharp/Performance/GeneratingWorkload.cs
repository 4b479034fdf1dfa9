using EquiSharp.Layers.Pairwise;
using EquiSharp.Layers.Pairwise.Packed;
using EquiSharp.Layers.Pairwise.Separable;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Performance;

/// <summary>
/// One forward+backward of the symmetry-generating layer (SCNN eq. 2) on a batch of (B, L, n) sequences, by every
/// path EquiSharp has: dense (the authors' way: materialise the (B, 2n, L, L) self-Cartesian product, plain conv with
/// the <c>ToDense()</c> weight), separable (fused autograd function or plain ops), and separable writing packed maps.
/// </summary>
public sealed class GeneratingWorkload
{
    private readonly SeparableSymmetryGeneratingConv2d layer;
    private readonly nn.Module<Tensor, Tensor> dense;
    private readonly nn.Module<Tensor, Tensor> cartesian = PairLayers.SelfCartesian();
    private readonly Tensor x, upstream;
    private Tensor? packedUpstream;
    private PackedLayout? layout;

    public GeneratingWorkload(long length, long inFeatures, long outFeatures, long kernel, long batch = 1, Device? device = null, int seed = 1)
    {
        torch.manual_seed(seed);
        layer = new SeparableSymmetryGeneratingConv2d(inFeatures, outFeatures, kernel, device: device);
        dense = layer.ToDense();
        x = randn(new[] { batch, length, inFeatures }, device: device);
        upstream = randn(new[] { batch, outFeatures, length, length }, device: device);
    }

    public void RunDense() => Step(xv => dense.forward(cartesian.forward(xv)), upstream, dense);

    public void RunSeparable()
    {
        layer.Engine = SeparableGenerating.Engine.Fused;
        Step(xv => layer.forward(xv), upstream, layer);
    }

    public void RunSeparablePlain()
    {
        layer.Engine = SeparableGenerating.Engine.Plain;
        Step(xv => layer.forward(xv), upstream, layer);
    }

    /// <summary>Separable layer writing packed maps (default layout); the upstream gradient in packed form.</summary>
    public void RunSeparablePacked()
    {
        if (layout is null)
        {
            using var _ = no_grad();
            layout = PackedLayout.Default(x.shape[1], 0);
            using var up = upstream.add(upstream.transpose(2, 3), KeptScalar.One).mul(KeptScalar.Of(0.5));
            // weighted by what each stored cell stands for, so the packed loss equals the dense one
            packedUpstream = PackedSymmetricMap.Pack(up, layout).Data.mul(layout.CellWeightsOn(up.device, up.dtype));
        }
        layer.Engine = SeparableGenerating.Engine.Fused;
        Step(xv => layer.ForwardPacked(xv, null, layout).Data, packedUpstream!, layer);
    }

    /// <summary>One forward+backward with a fixed upstream gradient; everything it allocates is disposed.</summary>
    private void Step(Func<Tensor, Tensor> f, Tensor up, nn.Module module)
    {
        using var scope = NewDisposeScope();
        module.zero_grad();
        var xv = x.detach().requires_grad_(true);
        var z = f(xv);
        z.backward(new[] { up });
    }
}
