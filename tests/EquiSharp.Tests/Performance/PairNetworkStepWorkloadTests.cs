using System.Text.Json;
using EquiSharp.Applications.Rna.Models;
using EquiSharp.Performance;

namespace EquiSharp.Tests.Performance;

/// <summary><c>bench rna-step</c> trains the network <c>rna train</c> trains, and its variants train the same function.</summary>
public sealed class PairNetworkStepWorkloadTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PaperSpecIsTheRnaModelsSpec(bool symmetric) =>
        Assert.Equal(JsonSerializer.Serialize(RnaPairModel.NetworkSpec(RnaModelConfig.Paper, symmetric)),
            JsonSerializer.Serialize(PairNetworkStepWorkload.PaperSpec(symmetric)));

    [Fact]
    public void PackedAndDenseScnnStepsGiveTheSameLoss()
    {
        // same synthetic batch (seeded System.Random), same weights (copied: parallel tests may draw from torch's global
        // generator between the two constructions): the first step's loss is the same function on both paths
        var packedWork = new PairNetworkStepWorkload("scnn_packed", 20, 2, TorchSharp.torch.CPU, seed: 3);
        var denseWork = new PairNetworkStepWorkload("scnn_dense", 20, 2, TorchSharp.torch.CPU, seed: 3);
        denseWork.Network.load_state_dict(packedWork.Network.state_dict());
        double packed = packedWork.Step(), dense = denseWork.Step();
        Assert.True(packed > 0.1, $"loss {packed}");
        Assert.True(Math.Abs(packed - dense) <= 1e-5 * Math.Abs(dense), $"packed {packed} vs dense {dense}");
    }
}
