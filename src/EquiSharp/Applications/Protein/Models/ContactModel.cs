using EquiSharp.Applications.Protein.Features;
using EquiSharp.Layers.Pairwise.Network;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Protein.Models;

/// <summary>
/// The protein contact predictors of the SCNN paper (IV-C, Figs. 5–6): the shared <see cref="PairNetwork"/> on the
/// 45 per-residue features (one-hot, profile, conservation, gap fraction, relative position) with 3 pair features
/// (APC-corrected MI, mean-field DCA, the residue-pair contact potential). BiLSTM (75 per direction) → dense 15 →
/// concatenated with the 1-D features (60) → self-Cartesian product (120) → generating 1×1 conv to 40 (plain conv for
/// the CNN) → concatenated with the 3 pair features → multi-kernel stages 13/9/5, 9/5, 5 (the RNA widths,
/// <see cref="PairNetworkSpec.PaperStages"/>) → concatenated with a 1×1 encoding (20) of the 1-D features' product
/// and the pair features again → 3×3 conv to one logit map. ContactScnn (symmetric: every conv generating or
/// preserving, so the logits are symmetric by Theorems 1–2) and ContactCnn (plain convs) share every width, so
/// their parameter counts differ only by the tying.
/// </summary>
public sealed class ContactModel : PairNetwork
{
    /// <summary>Per-residue input features (<see cref="ProteinFeatureBuilder.OneDNames"/>).</summary>
    public static int InputFeatures => ProteinFeatureBuilder.OneDNames.Length;

    /// <summary>Pair features: the cached MI and DCA channels, then the contact potential.</summary>
    public static readonly string[] PairFeatureNames = [.. ProteinFeatureBuilder.TwoDNames, "contact_potential"];

    /// <param name="symmetric">True: ContactScnn; false: ContactCnn.</param>
    /// <param name="device">Device of the parameters.</param>
    public ContactModel(bool symmetric, Device? device = null)
        : base(symmetric ? "ContactScnn" : "ContactCnn", NetworkSpec(symmetric), device) { }

    /// <summary>The pair-network architecture of both contact models (only <c>Symmetric</c> differs).</summary>
    public static PairNetworkSpec NetworkSpec(bool symmetric) => new()
    {
        InputFeatures = InputFeatures, PairFeatures = PairFeatureNames.Length,
        LstmUnits = 75, DenseFeatures = 15, EncoderChannels = 40, Stages = PairNetworkSpec.PaperStages,
        SkipChannels = 20, FinalKernel = 3, OutChannels = 1, Symmetric = symmetric,
    };

    /// <summary>Parses the CLI variant names scnn / cnn into "symmetric".</summary>
    public static bool ParseVariant(string text) => text.Trim().ToLowerInvariant() switch
    {
        "scnn" => true,
        "cnn" => false,
        _ => throw new ArgumentException($"--model {text}: expected scnn or cnn."),
    };

    /// <summary>(B, L, 45) features, (B, 3, L, L) pair features, lengths (B) or null → logits (B, L, L).</summary>
    public Tensor Logits(Tensor features, Tensor pairFeatures, Tensor? lengths) => forward(features, pairFeatures, lengths).squeeze(1);

    /// <summary>Full-length logits (L, L) of one protein (1, L, 45) with (1, 3, L, L) pair features, by tiled inference.</summary>
    public Tensor TiledLogits(Tensor features, Tensor pairFeatures, TiledInferenceOptions? options = null)
    {
        using var scope = NewDisposeScope();
        return TiledPairInference.Logits(this, features, pairFeatures, options)[0].MoveToOuterDisposeScope();
    }
}
