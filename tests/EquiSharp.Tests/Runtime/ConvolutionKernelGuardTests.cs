using EquiSharp.Runtime;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Runtime;

public class ConvolutionKernelGuardTests
{
    /// <summary>
    /// After the guard (the suite runs it at start, as the CLI does), float32 convolution input gradients agree with
    /// float64 to rounding on this CPU, whatever oneDNN does here: the property every gradient test below relies on.
    /// </summary>
    [Fact]
    public void Float32ConvolutionInputGradientsMatchFloat64AfterTheGuard()
    {
        ConvolutionKernelGuard.Ensure();
        Assert.True(ConvolutionKernelGuard.MeasureDeviation() <= 1e-5);
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        var x64 = randn(new long[] { 2, 3, 11, 11 }, dtype: ScalarType.Float64, generator: g);
        var w64 = randn(new long[] { 4, 3, 5, 5 }, dtype: ScalarType.Float64, generator: g);
        var up64 = randn(new long[] { 2, 4, 11, 11 }, dtype: ScalarType.Float64, generator: g);
        Tensor InputGradient(ScalarType t)
        {
            var x = x64.to(t).detach().requires_grad_(true);
            nn.functional.conv2d(x, w64.to(t), padding: new long[] { 2, 2 }).mul(up64.to(t)).sum().backward();
            return x.grad!.to(ScalarType.Float64);
        }
        var exact = InputGradient(ScalarType.Float64);
        double deviation = InputGradient(ScalarType.Float32).sub(exact).abs().max().item<double>() / exact.abs().max().item<double>();
        Assert.True(deviation <= 1e-5, $"relative deviation {deviation}");
    }

    /// <summary>
    /// NNPACK goes off with oneDNN (on CPUs NNPACK does not support, libtorch otherwise logs a warning on every float32
    /// convolution once oneDNN is off), and stays on where the guard left oneDNN alone.
    /// </summary>
    [Fact]
    public void NnpackIsOffExactlyWhenTheGuardTurnedOneDnnOff()
    {
        bool oneDnnOff = ConvolutionKernelGuard.Ensure();
        Assert.Equal(!oneDnnOff, ConvolutionKernelGuard.NnpackEnabled);
    }
}
