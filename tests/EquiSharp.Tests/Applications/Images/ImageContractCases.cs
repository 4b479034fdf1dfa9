using EquiSharp.Applications.Images;
using EquiSharp.Applications.Images.Models;
using EquiSharp.Tests.Layers;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Applications.Images;

/// <summary>Contract cases of the whole networks (see <see cref="EquivariantModuleContractTests"/>); size is the image side.</summary>
public sealed class ImageContractCases : IContractCaseSource
{
    public IEnumerable<ContractCase> Cases()
    {
        yield return new("images.p4cnn", typeof(PlanarCnn), () =>
        {
            var net = PlanarCnnSpec.Preset("p4cnn", dropout: 0.3).Build();   // with dropout layers, so their export is covered
            ImageChecks.TrainBatchNormStatistics(net);
            return net;
        }, 28, (l, g) => rand(new[] { 2, 1, l, l }, generator: g));
        yield return new("images.allcnn-p4m", typeof(AllCnnC), () =>
        {
            var net = (PlanarCnnSpec.Preset("allcnn-p4m", dropout: 0.5) with { Width = 3 }).Build();   // narrow: the contract is about the shape of the code
            ImageChecks.TrainBatchNormStatistics(net);
            return net;
        }, 32, (l, g) => rand(new[] { 2, 3, l, l }, generator: g));
    }
}
