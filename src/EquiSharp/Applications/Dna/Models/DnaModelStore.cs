using EquiSharp.Training;
using TorchSharp;

namespace EquiSharp.Applications.Dna.Models;

/// <summary>Loads a trained DNA model directory (spec.json + the Trainer's best/ or checkpoint/ weights).</summary>
public static class DnaModelStore
{
    /// <summary>The model with its best validation weights (or the latest checkpoint when no epoch has finished).</summary>
    public static (DnaConvNet Model, string Weights) Load(string dir, torch.Device device)
    {
        var spec = DnaModelSpec.Load(dir);
        var model = new DnaConvNet(spec, device);
        string name = Checkpoint.Locate(dir, Checkpoint.BestName) is not null ? Checkpoint.BestName : Checkpoint.LatestName;
        if (Checkpoint.Load(dir, model, restoreRng: false, name: name) is null)
        {
            model.Dispose();
            throw new FileNotFoundException($"{dir}: no trained weights (expected {Path.Combine(dir, Checkpoint.BestName)}/ or {Path.Combine(dir, Checkpoint.LatestName)}/).");
        }
        model.eval();
        return (model, Path.Combine(dir, name));
    }
}
