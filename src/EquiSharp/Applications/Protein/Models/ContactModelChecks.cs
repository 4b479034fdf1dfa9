using EquiSharp.Layers.Pairwise.Network;
using EquiSharp.Verification;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Applications.Protein.Models;

/// <summary>
/// Exactness of the contact SCNN as <c>protein train</c> and <c>protein eval</c> run it, on a padded batch of random
/// 45-feature sequences with random symmetric pair features: symmetric logits (Theorems 1–2), packed maps equal to
/// dense maps, and full-length tiled inference equal to the plain forward.
/// </summary>
[CheckFamily(Order = 6)]
public static class ContactModelChecks
{
    public static IEnumerable<EquivarianceCheck> All() =>
    [
        new("protein.contact-scnn (45 + 3 pair features, padded batch): logits symmetric", () =>
        {
            var (model, x, pairs, lengths) = Inputs();
            using (model) using (no_grad()) return Deviation.Asymmetry(model.Logits(x, pairs, lengths));
        }),
        new("protein.contact-scnn: packed maps equal dense maps (eval)", () =>
        {
            var (model, x, pairs, lengths) = Inputs();
            using (model)
            using (no_grad())
            {
                model.eval();
                var dense = model.Logits(x, pairs, lengths);
                model.PackedMaps = true;
                return Deviation.Relative(model.Logits(x, pairs, lengths), dense);
            }
        }, 1e-4),
        new("protein.contact-scnn: tiled inference (tile 8) equals the plain forward", () =>
        {
            var (model, x, pairs, _) = Inputs();
            using (model)
            using (no_grad())
            {
                model.eval();
                var plain = model.Logits(x[..1], pairs[..1], null)[0];
                return Deviation.Relative(model.TiledLogits(x[..1], pairs[..1], new TiledInferenceOptions { TileSize = 8 }), plain);
            }
        }),
    ];

    /// <summary>A seeded ContactScnn and a batch of two sequences (lengths 22 and 17) with symmetric pair features.</summary>
    private static (ContactModel Model, Tensor Features, Tensor Pairs, Tensor Lengths) Inputs()
    {
        manual_seed(11);
        var model = new ContactModel(symmetric: true);
        var g = new Generator(12);
        var x = rand(new long[] { 2, 22, ContactModel.InputFeatures }, generator: g);
        var p = randn(new long[] { 2, ContactModel.PairFeatureNames.Length, 22, 22 }, generator: g);
        return (model, x, p.add(p.transpose(2, 3), KeptScalar.One), tensor(new long[] { 22, 17 }));
    }
}
