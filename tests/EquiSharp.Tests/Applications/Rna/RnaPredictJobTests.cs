using EquiSharp.Applications.Rna.Inference;

namespace EquiSharp.Tests.Applications.Rna;

/// <summary>The predict pipeline's output names (the pipeline itself runs end to end in <see cref="RnaCliTests"/>).</summary>
public sealed class RnaPredictJobTests
{
    [Fact]
    public void OutputNamesAreFileSystemSafeAndUniqueIgnoringCase()
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Assert.Equal("tRNA_Phe_yeast", RnaPredictJob.UniqueFileName("tRNA Phe/yeast", used));
        Assert.Equal("trna_phe_yeast_2", RnaPredictJob.UniqueFileName("trna.phe yeast", used));
        Assert.Equal("seq", RnaPredictJob.UniqueFileName("...", used));
        Assert.Equal("seq_2", RnaPredictJob.UniqueFileName(" ", used));
        Assert.Equal(80, RnaPredictJob.UniqueFileName(new string('a', 200), used).Length);
    }
}
