using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.Layers.Pairwise;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Applications.Recommendation.Models;

/// <summary>
/// CosRec's architecture (Yan et al. 2019), with plain or symmetric convolutions (SCNN paper section IV-A). For user u
/// and its previous L items with embeddings E (L×d):
/// <code>
///   T = pairwise encoding of E: T[i,j] = [e_i; e_j]            (L×L×2d; SCNN eq. 1)
///   maps = blocks(T): per block a 1×1 conv then a 3×3 conv ('same' padding, L×L maps), batch norm + ReLU after each
///   z = dropout(tanh(fc(avgpool(maps))))                        (fc: C_last → 150)
///   x = [z; e_u]                                                (150 + d = 200)
///   score(u, item) = W2[item] · x + b2[item]
/// </code>
/// The symmetric model (<see cref="SCosRec"/>) uses a symmetry-generating first 1×1 conv (SCNN eq. 2, computed
/// separably, never building T) and symmetry-preserving convs after it (eq. 4), so its maps are symmetric
/// (maps[i,j] = maps[j,i]). Scores are computed only for the items asked for (<see cref="forward"/>) or for all items
/// (<see cref="ScoreAll"/>). Padded inputs (<see cref="TrainingInstances.Padding"/>) embed as zero vectors, which are
/// not parameters.
/// </summary>
public abstract class PairwiseSequenceRecommender : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Embedding userEmbeddings;
    private readonly Embedding itemEmbeddings;
    private readonly PairEncoder encoder;
    private readonly ModuleList<PairConvStage> stages;
    private readonly Linear fc;
    private readonly Dropout dropout;
    private readonly Embedding outputWeights;   // W2 (items × (fc + d))
    private readonly Embedding outputBias;      // b2 (items × 1)

    public CosRecConfig Config { get; }
    /// <summary>True for SCosRec: the pair maps are symmetric.</summary>
    public bool Symmetric { get; }
    /// <summary>Trainable parameters (tied kernels count their free parameters only).</summary>
    public long FreeParameterCount => parameters().Sum(p => p.numel());

    /// <summary>
    /// SCosRec only: compute the generating layer separably (default) or on the materialised self-Cartesian product
    /// (the reference path; same output).
    /// </summary>
    public bool SeparableGenerating { get => encoder.Separable; set => encoder.Separable = value; }

    protected PairwiseSequenceRecommender(string name, CosRecConfig config, bool symmetric, Device? device) : base(name)
    {
        if (config.Users <= 0 || config.Items <= 0) throw new ArgumentException($"{name}: needs at least one user and one item, got {config.Users} users, {config.Items} items.");
        if (config.BlockChannels.Count == 0) throw new ArgumentException($"{name}: needs at least one conv block.");
        Config = config;
        Symmetric = symmetric;
        long d = config.EmbeddingDim, c0 = config.BlockChannels[0], last = config.BlockChannels[^1], width = config.FcDim + d;
        userEmbeddings = nn.Embedding(config.Users, d, device: device);
        itemEmbeddings = nn.Embedding(config.Items, d, device: device);
        outputWeights = nn.Embedding(config.Items, width, device: device);
        outputBias = nn.Embedding(config.Items, 1, device: device);
        // CosRec's initialisation: N(0, 1/dim) embeddings, zero output biases
        using (no_grad())
        {
            userEmbeddings.weight!.normal_(0, 1.0 / d);
            itemEmbeddings.weight!.normal_(0, 1.0 / d);
            outputWeights.weight!.normal_(0, 1.0 / width);
            outputBias.weight!.zero_();
        }
        // block 1's 1×1 conv reads the pairwise encoding: it is the encoder (generating conv for SCosRec)
        encoder = new PairEncoder(d, c0, kernelSize: 1, symmetric, PairActivation.ReLU, device: device) { Separable = symmetric };
        var list = new List<PairConvStage> { new(c0, new[] { (3L, c0) }, symmetric, PairActivation.ReLU, device: device) };
        for (int b = 1; b < config.BlockChannels.Count; b++)
        {
            long cin = config.BlockChannels[b - 1], cout = config.BlockChannels[b];
            list.Add(new PairConvStage(cin, new[] { (1L, cout) }, symmetric, PairActivation.ReLU, device: device));
            list.Add(new PairConvStage(cout, new[] { (3L, cout) }, symmetric, PairActivation.ReLU, device: device));
        }
        stages = new ModuleList<PairConvStage>(list.ToArray());
        fc = nn.Linear(last, config.FcDim, device: device);
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    /// <summary>Item embeddings of input sequences (B, L) → (B, L, d); padding gives zero rows.</summary>
    private Tensor EmbedSequences(Tensor sequences)
    {
        var valid = sequences.ge(KeptScalar.Of(0));
        return itemEmbeddings.forward(sequences.clamp_min(KeptScalar.Of(0))).mul(valid.unsqueeze(-1).to(itemEmbeddings.weight!.dtype));
    }

    /// <summary>The conv trunk's output maps (B, C_last, L, L) for input sequences (B, L) of item indices.</summary>
    public Tensor PairMaps(Tensor sequences)
    {
        if (sequences.dim() != 2) throw new ArgumentException($"{GetName()}: expected sequences (B, L), got [{string.Join(", ", sequences.shape)}].");
        var x = encoder.forward(EmbedSequences(sequences));
        foreach (var stage in stages) x = stage.forward(x);
        return x;
    }

    /// <summary>The representation x = [dropout(tanh(fc(avgpool(maps)))); e_u] (B, fc + d) scored against W2.</summary>
    public Tensor Represent(Tensor users, Tensor sequences)
    {
        var pooled = PairMaps(sequences).mean(new long[] { 2, 3 });
        var z = dropout.forward(fc.forward(pooled).tanh());
        return cat(new[] { z, userEmbeddings.forward(users) }, 1);
    }

    /// <summary>Scores (B, K) of the items (B, K) asked for (training: targets and negatives).</summary>
    /// <param name="users">(B) user indices.</param>
    /// <param name="sequences">(B, L) previous items, padding −1.</param>
    /// <param name="items">(B, K) items to score.</param>
    public override Tensor forward(Tensor users, Tensor sequences, Tensor items)
    {
        var x = Represent(users, sequences);                                   // (B, W)
        var w = outputWeights.forward(items);                                  // (B, K, W)
        var b = outputBias.forward(items).squeeze(-1);                         // (B, K)
        return w.matmul(x.unsqueeze(-1)).squeeze(-1).add(b, KeptScalar.One);
    }

    /// <summary>Scores (B, items) of every item (evaluation).</summary>
    public Tensor ScoreAll(Tensor users, Tensor sequences) =>
        addmm(outputBias.weight!.view(1, -1), Represent(users, sequences), outputWeights.weight!.t(), beta: 1, alpha: 1);
}

/// <summary>CosRec: the pairwise encoding and plain convolutions (see <see cref="PairwiseSequenceRecommender"/>).</summary>
public sealed class CosRec(CosRecConfig config, Device? device = null)
    : PairwiseSequenceRecommender(nameof(CosRec), config, symmetric: false, device);

/// <summary>
/// SCosRec (SCNN paper IV-A): CosRec with a symmetry-generating 1×1 conv on the pairwise encoding (half its weights)
/// and symmetry-preserving convs after it (a 3×3 kernel keeps 6 of its 9 weights); its pair maps are symmetric.
/// </summary>
public sealed class SCosRec(CosRecConfig config, Device? device = null)
    : PairwiseSequenceRecommender(nameof(SCosRec), config, symmetric: true, device);
