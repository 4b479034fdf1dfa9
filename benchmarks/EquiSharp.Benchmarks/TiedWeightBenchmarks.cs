using BenchmarkDotNet.Attributes;
using EquiSharp.Layers.Pairwise;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Benchmarks;

/// <summary>
/// What tying costs: a 13×13 convolution (40 → 20 channels, the RNA model's widest kernel) on 64×64 maps, forward +
/// backward, with a plain weight vs a symmetry-preserving tied weight materialised by one gather (and its gradient
/// by autograd's scatter-add) on every call.
/// </summary>
public class TiedWeightBenchmarks
{
    private nn.Module<Tensor, Tensor> plain = null!, tied = null!;
    private Tensor input = null!;

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(1);
        plain = nn.Conv2d(40, 20, 13, padding: 6);
        tied = PairLayers.SymmetryPreservingConv2d(40, 20, 13);
        input = randn(4, 40, 64, 64);
    }

    private static void Step(nn.Module<Tensor, Tensor> layer, Tensor x)
    {
        using var scope = NewDisposeScope();
        layer.zero_grad();
        layer.forward(x).sum().backward();
    }

    [Benchmark(Baseline = true)]
    public void PlainConv2d() => Step(plain, input);

    [Benchmark]
    public void TiedSymmetryPreservingConv2d() => Step(tied, input);
}
