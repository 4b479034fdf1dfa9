using static TorchSharp.torch;

namespace EquiSharp.Applications.Recommendation.Training;

/// <summary>CosRec's (and Caser's) training loss.</summary>
public static class NegativeSamplingLoss
{
    /// <summary>
    /// Binary cross-entropy of target scores against sampled negatives:
    /// <c>−mean(log σ(s⁺)) − mean(log(1 − σ(s⁻)))</c>, computed as <c>−mean(log σ(s⁺)) − mean(log σ(−s⁻))</c>
    /// (the same value; libtorch's log-sigmoid is stable for large scores).
    /// </summary>
    /// <param name="targetScores">(B, T) scores of the next items.</param>
    /// <param name="negativeScores">(B, N) scores of the sampled negatives.</param>
    public static Tensor BinaryCrossEntropy(Tensor targetScores, Tensor negativeScores) =>
        nn.functional.logsigmoid(targetScores).mean().neg().sub(nn.functional.logsigmoid(negativeScores.neg()).mean());
}
