using EquiSharp.Layers.Pairwise;
using EquiSharp.Verification;
using static TorchSharp.torch;
using EquiSharp.Runtime;
using EquiSharp.Training;

namespace EquiSharp.Tests.Layers.Pairwise;

/// <summary>The README's 15-line example, kept compiling and checked: loss goes down, output stays symmetric.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void ReadmeExampleTrainsAndStaysSymmetric()
    {
        var encoder = PairLayers.SymmetryGeneratingConv2d(in_channels: 2 * 8, out_channels: 16, kernel_size: 1); // eq. (2)
        var block = PairLayers.MultiKernelSymmetricConv2d(16, new (long, long)[] { (9, 8), (5, 8) });            // eq. (4)
        var head = PairLayers.SymmetryPreservingConv2d(16, 1, kernel_size: 3);
        var product = PairLayers.SelfCartesian();                                                                 // eq. (1)
        var model = nn.Sequential(("sg", encoder), ("relu1", nn.ReLU()), ("mk", block), ("relu2", nn.ReLU()), ("sp", head));
        var optimizer = Optimizers.Adam(model.parameters(), 1e-3);

        var x = randn(4, 32, 8);                          // a batch of 4 sequences, length 32, 8 features
        var target = rand(4, 1, 32, 32); target = target.add(target.transpose(2, 3), KeptScalar.One).div(KeptScalar.Of(2));
        var losses = new List<float>();
        for (int step = 0; step < 100; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var y = model.forward(product.forward(x));   // (4, 1, 32, 32), symmetric by construction
            var loss = nn.functional.mse_loss(y, target);
            loss.backward();
            optimizer.step();                            // tied kernels stay exactly tied
            losses.Add(loss.item<float>());
        }
        Assert.True(losses[^1] < 0.5 * losses[0], $"loss {losses[0]} -> {losses[^1]}");
        Assert.True(Deviation.Asymmetry(model.forward(product.forward(x))) <= 1e-5);
    }
}
