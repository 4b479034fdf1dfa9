using EquiSharp.Training;
using System.Diagnostics;
using System.Globalization;
using EquiSharp.Layers.Permutation;
using TorchSharp;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Applications.Sets;

/// <summary>Sizes and seed of the sets demo (defaults are the documented run; tests use small ones).</summary>
public sealed record SetsDemoOptions
{
    public int TrainSetSize { get; init; } = 5;
    public int EvalSetSize { get; init; } = 10;
    public int TrainSamples { get; init; } = 2048;
    public int TestSamples { get; init; } = 1024;
    public int Steps { get; init; } = 1000;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 0.01;
    /// <summary>Hidden channels of the equivariant models (8·H + 1 parameters with the per-element readout, 9·H + 1 with the DeepSets one).</summary>
    public int Hidden { get; init; } = 8;
    /// <summary>Hidden width of the similar-size MLP (11·H + 5 parameters for N = 5).</summary>
    public int MlpHidden { get; init; } = 6;
    /// <summary>Hidden width of the wide MLP (0 to skip it).</summary>
    public int WideMlpHidden { get; init; } = 64;
    public int Seed { get; init; } = 1;
}

/// <summary>One model's numbers. <see cref="TestRelMseEval"/> is null when the model cannot take sets of the evaluation size.</summary>
public sealed record SetsModelResult(string Name, long Parameters, double TrainRelMse, double TestRelMseTrainSize, double? TestRelMseEval,
    double PermutationDeviation, double Seconds);

/// <summary>
/// The sets demo: learn the permutation-equivariant target y_i = x_i·Σ_j x_j − x_i² (= x_i·Σ_{j≠i} x_j, a quadratic
/// map) on sets of N = 5 scalars x ~ U(−1, 1) with (a) the equivariant layers, (b) an unconstrained MLP of similar
/// size and (c) a wide MLP; evaluate on N = 5 and on N = 10. The equivariant model applies unchanged to N = 10; an
/// MLP has a fixed input width, so it is not applicable there. Errors are relative MSE: mean((ŷ − y)²) / mean(y²).
/// </summary>
public static class SetsDemo
{
    /// <summary>The target map on (B, N) inputs.</summary>
    public static Tensor Target(Tensor x) => x * x.sum(1, keepdim: true) - x * x;

    /// <summary>Trains and evaluates every model; deterministic for a given seed and thread count.</summary>
    public static IReadOnlyList<SetsModelResult> Run(SetsDemoOptions options)
    {
        torch.random.manual_seed(options.Seed);
        var gen = new Generator((ulong)options.Seed);
        using var data = NewDisposeScope();
        var trainX = rand(new long[] { options.TrainSamples, options.TrainSetSize }, generator: gen).mul(KeptScalar.Of(2)).sub(KeptScalar.Of(1));
        var testX = rand(new long[] { options.TestSamples, options.TrainSetSize }, generator: gen).mul(KeptScalar.Of(2)).sub(KeptScalar.Of(1));
        var evalX = rand(new long[] { options.TestSamples, options.EvalSetSize }, generator: gen).mul(KeptScalar.Of(2)).sub(KeptScalar.Of(1));

        var models = new List<(string Name, ISetModel Model)>
        {
            ($"equivariant, per-element readout (H={options.Hidden})", new EquivariantSetModel(options.Hidden, setReadout: false)),
            ($"equivariant, DeepSets readout (H={options.Hidden})", new EquivariantSetModel(options.Hidden, setReadout: true)),
            ($"mlp (hidden {options.MlpHidden})", new SetMlp(options.TrainSetSize, options.MlpHidden)),
        };
        if (options.WideMlpHidden > 0) models.Add(($"mlp (hidden {options.WideMlpHidden})", new SetMlp(options.TrainSetSize, options.WideMlpHidden)));

        var results = new List<SetsModelResult>();
        foreach (var (name, model) in models)
        {
            var watch = Stopwatch.StartNew();
            Train(model, trainX, options, new Generator((ulong)options.Seed + 17));
            watch.Stop();
            model.Module.eval();
            using var _ = no_grad();
            double train = RelMse(model, trainX), test = RelMse(model, testX);
            double? eval = model.Accepts(options.EvalSetSize) ? RelMse(model, evalX) : null;
            double dev = PermutationDeviation(model, testX, new Generator((ulong)options.Seed + 29));
            results.Add(new SetsModelResult(name, model.Module.parameters().Sum(p => p.numel()), train, test, eval, dev, watch.Elapsed.TotalSeconds));
        }
        return results;
    }

    /// <summary>The result table, invariant culture; "n/a" where a model cannot take the evaluation set size.</summary>
    public static IEnumerable<string> Format(IReadOnlyList<SetsModelResult> results, SetsDemoOptions options)
    {
        var ci = CultureInfo.InvariantCulture;
        yield return string.Format(ci, "target y_i = x_i*sum_j x_j - x_i^2, x ~ U(-1,1); train N={0} ({1} sets), test {2} sets; {3} Adam steps, batch {4}, lr {5}, seed {6}",
            options.TrainSetSize, options.TrainSamples, options.TestSamples, options.Steps, options.BatchSize, options.LearningRate, options.Seed);
        int width = Math.Max(5, results.Max(r => r.Name.Length));
        yield return string.Format(ci, "{0}  {1,6}  {2,13}  {3,17}  {4,18}  {5,9}  {6,7}", "model".PadRight(width), "params", "train_rel_mse",
            $"test_rel_mse(N={options.TrainSetSize})", $"test_rel_mse(N={options.EvalSetSize})", "perm_dev", "seconds");
        foreach (var r in results)
            yield return string.Format(ci, "{0}  {1,6}  {2,13:0.00e+00}  {3,17:0.00e+00}  {4,18}  {5,9:0.00e+00}  {6,7:0.0}", r.Name.PadRight(width), r.Parameters,
                r.TrainRelMse, r.TestRelMseTrainSize, r.TestRelMseEval is double e ? e.ToString("0.00e+00", ci) : "n/a", r.PermutationDeviation, r.Seconds);
        yield return "rel_mse = relative MSE mean((yhat-y)^2)/mean(y^2); perm_dev = max |f(Px) - P f(x)| / max |f(x)| over 5 random permutations of the test sets";
    }

    private static void Train(ISetModel model, Tensor trainX, SetsDemoOptions options, Generator gen)
    {
        model.Module.train();
        var optimizer = Optimizers.Adam(model.Module.parameters(), options.LearningRate);
        var scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, options.Steps);
        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var idx = randint(0, trainX.shape[0], new long[] { options.BatchSize }, generator: gen);
            var x = trainX.index_select(0, idx);
            var loss = (model.Forward(x) - Target(x)).pow(KeptScalar.Of(2)).mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            scheduler.step();
        }
    }

    private static double RelMse(ISetModel model, Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = Target(x);
        return (model.Forward(x) - y).pow(KeptScalar.Of(2)).mean().item<float>() / y.pow(KeptScalar.Of(2)).mean().item<float>();
    }

    private static double PermutationDeviation(ISetModel model, Tensor x, Generator gen)
    {
        using var scope = NewDisposeScope();
        var y = model.Forward(x);
        double worst = 0, scale = y.abs().max().item<float>();
        for (int t = 0; t < 5; t++)
        {
            var p = randperm(x.shape[1], generator: gen);
            double d = (model.Forward(x.index_select(1, p)) - y.index_select(1, p)).abs().max().item<float>();
            worst = Math.Max(worst, d / Math.Max(scale, 1e-30));
        }
        return worst;
    }
}

/// <summary>A model of the demo: (B, N) → (B, N).</summary>
internal interface ISetModel
{
    nn.Module Module { get; }
    Tensor Forward(Tensor x);
    bool Accepts(int setSize);
}

/// <summary>
/// y = R(Quad(x) + Lin(x)): equivariant quadratic and linear layers into H channels, then a read-out R to one channel.
/// R is either per element (nn.Linear on the channels: the model stays a fixed combination of the identifiable orbit
/// classes, so a fit on N = 5 determines the function on every N ≥ 3) or DeepSets (an equivariant linear layer with a
/// set-sum term: still equivariant, but its composition with the hidden layers can express the same N = 5 function in
/// ways that differ on other N).
/// </summary>
internal sealed class EquivariantSetModel : nn.Module<Tensor, Tensor>, ISetModel
{
    private readonly PermutationEquivariantQuadratic quadratic;
    private readonly PermutationEquivariantLinear linear;
    private readonly nn.Module<Tensor, Tensor> readout;

    public EquivariantSetModel(int hidden, bool setReadout) : base(nameof(EquivariantSetModel))
    {
        quadratic = PermutationLayers.PermutationEquivariantQuadratic(1, hidden);
        linear = PermutationLayers.PermutationEquivariantLinear(1, hidden);
        readout = setReadout ? PermutationLayers.PermutationEquivariantLinear(hidden, 1) : nn.Linear(hidden, 1);
        RegisterComponents();
    }

    public nn.Module Module => this;
    public bool Accepts(int setSize) => setSize >= 1;
    public Tensor Forward(Tensor x) => forward(x.unsqueeze(-1)).squeeze(-1);

    public override Tensor forward(Tensor x) => readout.forward(quadratic.forward(x).add(linear.forward(x), KeptScalar.One));
}

/// <summary>An unconstrained MLP on the N numbers of a set (fixed N): Linear(N, H) → ReLU → Linear(H, N).</summary>
internal sealed class SetMlp : nn.Module<Tensor, Tensor>, ISetModel
{
    private readonly nn.Module<Tensor, Tensor> net;
    private readonly int setSize;

    public SetMlp(int setSize, int hidden) : base(nameof(SetMlp))
    {
        this.setSize = setSize;
        net = nn.Sequential(nn.Linear(setSize, hidden), nn.ReLU(), nn.Linear(hidden, setSize));
        RegisterComponents();
    }

    public nn.Module Module => this;
    public bool Accepts(int n) => n == setSize;
    public Tensor Forward(Tensor x) => forward(x);

    public override Tensor forward(Tensor x)
    {
        if (x.shape[1] != setSize) throw new ArgumentException($"{nameof(SetMlp)} takes sets of exactly {setSize} elements, got {x.shape[1]}.");
        return net.forward(x);
    }
}
