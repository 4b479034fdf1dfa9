using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Images.Gan;

/// <summary>
/// A small DCGAN-style generator (Radford et al. 2016 layout) for 28×28 digits: a latent vector z ~ N(0, I) →
/// linear to 64 maps of 7×7 → batch norm, ReLU → 4×4 transposed convolution, stride 2 (14×14, 32 maps) → batch norm,
/// ReLU → 4×4 transposed convolution, stride 2 (28×28, one map) → sigmoid, so pixels lie in [0, 1] like the data.
/// It has no symmetry of its own: only the discriminator differs between the runs compared.
/// </summary>
public sealed class DigitGenerator : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> body;

    public int LatentSize { get; }

    public DigitGenerator(int latentSize, Device? device = null) : base(nameof(DigitGenerator))
    {
        if (latentSize <= 0) throw new ArgumentException($"--latent must be positive, got {latentSize}.");
        LatentSize = latentSize;
        body = nn.Sequential(
            ("project", nn.Linear(latentSize, 64 * 7 * 7, hasBias: false)),
            ("bn0", nn.BatchNorm1d(64 * 7 * 7)),
            ("relu0", nn.ReLU()),
            ("unflatten", nn.Unflatten(1, new long[] { 64, 7, 7 })),
            ("up1", nn.ConvTranspose2d(64, 32, 4, stride: 2, padding: 1, bias: false)),
            ("bn1", nn.BatchNorm2d(32)),
            ("relu1", nn.ReLU()),
            ("up2", nn.ConvTranspose2d(32, 1, 4, stride: 2, padding: 1)),
            ("sigmoid", nn.Sigmoid()));
        register_module("body", body);
        if (device is not null) this.to(device);
    }

    /// <summary>(B, latent) → (B, 1, 28, 28) images.</summary>
    public override Tensor forward(Tensor z) => body.forward(z);
}
