using EquiSharp.Applications.Recommendation.Data;
using EquiSharp.Applications.Recommendation.Models;
using EquiSharp.Metrics;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Recommendation.Evaluation;

/// <summary>One recommended item: its id as in the data file and its score (W2[item] · x + b2[item], a logit).</summary>
public sealed record RecommendedItem(string ItemId, double Score);

/// <summary>
/// Next items for a user after everything the data holds: the input is the user's last L interactions (train,
/// validation and test periods alike), every item is scored, and the items the user has interacted with are dropped.
/// </summary>
public static class UnseenItemRecommender
{
    /// <param name="model">A trained CosRec or SCosRec (its mode is restored afterwards).</param>
    /// <param name="log">The interactions the model's indices refer to.</param>
    /// <param name="userId">The user as in the data file.</param>
    /// <param name="k">How many items (fewer when the user has seen almost everything).</param>
    /// <param name="device">Where the model lives.</param>
    public static IReadOnlyList<RecommendedItem> TopUnseen(PairwiseSequenceRecommender model, InteractionLog log, string userId, int k, Device device)
    {
        if (k <= 0) throw new ArgumentException($"--k {k}: expected a positive number of items.");
        int user = log.UserIndex(userId)
            ?? throw new ArgumentException($"--user {userId}: no such user in the data ({log.UserCount} users, e.g. {string.Join(", ", log.UserIds.Take(3))}).");
        var history = log.Sequences[user];
        int l = model.Config.MarkovOrder, take = Math.Min(l, history.Length);
        var input = Enumerable.Repeat((long)TrainingInstances.Padding, l - take).Concat(history[^take..].Select(i => (long)i)).ToArray();
        bool wasTraining = model.training;
        model.eval();
        float[] scores;
        using (NewDisposeScope())
        using (no_grad())
            scores = model.ScoreAll(tensor(new long[] { user }).to(device), tensor(input, new long[] { 1, l }).to(device)).cpu().data<float>().ToArray();
        model.train(wasTraining);
        var ranking = RankingMetrics.Rank(scores, new HashSet<int>(history));
        return ranking.Take(k).Select(i => new RecommendedItem(log.ItemIds[i], scores[i])).ToList();
    }
}
