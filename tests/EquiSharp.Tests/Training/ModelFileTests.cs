using EquiSharp.Training;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Training;

public class ModelFileTests
{
    private static nn.Module Net(long hidden) => nn.Sequential(("a", nn.Linear(3, hidden)), ("b", nn.Linear(hidden, 2)));

    [Fact]
    public void AWrittenModelIsAcceptedAndLoadsItsWeights()
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "model.bin");
        using var saved = Net(4);
        saved.save(file);
        using var loaded = Net(4);
        ModelFile.Load(file, loaded);
        Assert.Equal(saved.parameters().First().data<float>().ToArray(), loaded.parameters().First().data<float>().ToArray());
    }

    [Fact]
    public void EachKindOfDamageIsNamed()
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "model.bin");
        using var model = Net(4);
        model.save(file);
        var bytes = File.ReadAllBytes(file);

        using (var other = Net(5)) // another architecture: same names, other shapes
            Assert.Equal(CheckpointProblem.IncompatibleVersion, Assert.Throws<UnreadableCheckpointException>(() => ModelFile.Verify(file, other)).Problem);
        foreach (int keep in new[] { 0, 1, 5, bytes.Length / 2, bytes.Length - 1 })
        {
            File.WriteAllBytes(file, bytes.Take(keep).ToArray());
            var e = Assert.Throws<UnreadableCheckpointException>(() => ModelFile.Verify(file, model));
            Assert.True(e.Problem == CheckpointProblem.Truncated, $"{keep} bytes: {e.Message}");
            Assert.StartsWith(file + ": truncated", e.Message);
        }
        File.WriteAllBytes(file, bytes.Concat(new byte[] { 1, 2, 3 }).ToArray());
        Assert.Equal(CheckpointProblem.NotACheckpoint, Assert.Throws<UnreadableCheckpointException>(() => ModelFile.Verify(file, model)).Problem);
        File.WriteAllText(file, "{\"this\": \"is json, not weights\"}");
        Assert.Equal(CheckpointProblem.NotACheckpoint, Assert.Throws<UnreadableCheckpointException>(() => ModelFile.Verify(file, model)).Problem);
    }
}
