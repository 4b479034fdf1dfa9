using TorchSharp;
namespace EquiSharp.Tests;
public class TorchLoadsTests
{
    [Fact]
    public void LibTorchLoadsAndComputes()
    {
        using var x = torch.ones(2, 3);
        Assert.Equal(6f, x.sum().item<float>());
    }
}
