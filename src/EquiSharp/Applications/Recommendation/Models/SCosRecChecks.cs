using EquiSharp.Verification;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Recommendation.Models;

/// <summary>Exactness checks of SCosRec for <c>equisharp verify</c>: symmetric pair maps, separable = dense generating path.</summary>
[CheckFamily(Order = 20)]
public static class SCosRecChecks
{
    private static readonly CosRecConfig Small = new() { Users = 5, Items = 9, BlockChannels = new long[] { 16, 32 }, EmbeddingDim = 6, FcDim = 4 };

    public static IEnumerable<EquivarianceCheck> All()
    {
        yield return new("recommendation.scosrec: conv trunk output symmetric", () =>
        {
            manual_seed(13);
            using var model = new SCosRec(Small);
            using var _ = no_grad();
            return Deviation.Asymmetry(model.PairMaps(randint(0, Small.Items, new long[] { 8, Small.MarkovOrder })));
        });
        yield return new("recommendation.scosrec: separable generating path equals the self-Cartesian path", () =>
        {
            manual_seed(17);
            using var model = new SCosRec(Small);
            using var _ = no_grad();
            var sequences = randint(0, Small.Items, new long[] { 8, Small.MarkovOrder });
            var separable = model.PairMaps(sequences);
            model.SeparableGenerating = false;
            return Deviation.Relative(separable, model.PairMaps(sequences));
        });
    }
}
