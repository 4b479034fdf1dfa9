using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Symmetry;

/// <summary>Modules that cache a materialised weight in eval mode implement this so loaders can drop the cache.</summary>
public interface IMaterializedWeightCache
{
    /// <summary>Forgets any cached materialised weight (call after changing parameters in place in eval mode).</summary>
    void InvalidateCache();
}

/// <summary>
/// A weight tensor whose entries are tied: a free parameter vector θ (registered as "theta") plus device buffers
/// that materialise the full weight in one gather (orbits) or one matmul (linear constraints). Every call that may
/// need a gradient (training mode, or eval mode with gradients enabled: fine-tuning with frozen batch norm, saliency
/// maps) materialises afresh so gradients flow to θ; in eval mode under <c>no_grad</c> the weight is expanded once and cached.
/// </summary>
public sealed class TiedWeight : nn.Module, IMaterializedWeightCache
{
    // Buffers (moved with the module by .to(device)): "index" = flat index into θ for orbit tying (zero-forced
    // entries point at an appended zero slot), "sign" = ±1/0 per entry when signed, "basis" = N × k for linear tying.
    // They are derived from the tying, so they are not persistent (not in the state dict).
    private readonly Tensor?[] cacheSlot = new Tensor?[1]; // an array so RegisterComponents does not treat it as a buffer

    // every equivariant layer is built on this class: the first one built checks libtorch's convolution kernels
    static TiedWeight() => Runtime.ConvolutionKernelGuard.Ensure();

    /// <summary>The tying this weight was built from.</summary>
    public WeightTying Tying { get; }
    /// <summary>Shape of the materialised weight.</summary>
    public long[] Shape => Tying.Shape;
    /// <summary>Number of free (trainable) parameters.</summary>
    public int FreeParameterCount => Tying.FreeParameterCount;
    /// <summary>The free parameters θ.</summary>
    public Parameter Theta => get_parameter("theta")!;
    private Tensor? Index => get_buffer("index");
    private Tensor? Sign => get_buffer("sign");
    private Tensor? Basis => get_buffer("basis");

    public TiedWeight(WeightTying tying, Device? device = null, ScalarType? dtype = null) : base(nameof(TiedWeight))
    {
        Tying = tying;
        var dt = dtype ?? ScalarType.Float32;
        register_parameter("theta", new Parameter(zeros(tying.FreeParameterCount, dtype: dt, device: device)));
        switch (tying)
        {
            case OrbitTying orbits:
                var p = orbits.Partition;
                long dummy = p.Count; // zero-forced entries read an extra zero slot, appended at materialisation
                register_buffer("index", torch.tensor(p.OrbitOf.Select(o => o >= 0 ? (long)o : dummy).ToArray(), dtype: int64, device: device), persistent: false);
                if (!p.IsUnsigned)
                    register_buffer("sign", torch.tensor(p.Sign.Select(s => (float)s).ToArray(), dtype: dt, device: device), persistent: false);
                break;
            case LinearConstraintTying linear:
                int n = linear.Basis.GetLength(0), k = linear.Basis.GetLength(1);
                var flat = new double[n * k];
                for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) flat[i * k + j] = linear.Basis[i, j];
                register_buffer("basis", torch.tensor(flat, new long[] { n, k }, dtype: dt, device: device), persistent: false);
                break;
            default:
                throw new ArgumentException($"Unsupported tying {tying.GetType().Name}.", nameof(tying));
        }
    }

    /// <summary>The full weight, differentiable with respect to θ (cached in eval mode when gradients are disabled).</summary>
    public Tensor Materialize()
    {
        var theta = Theta;
        // the cache is detached: only a call that cannot record a graph may use it
        bool cacheable = !training && !is_grad_enabled();
        var cache = cacheSlot[0];
        if (cacheable && cache is not null && cache.device_type == theta.device_type && cache.device_index == theta.device_index) return cache.alias();
        Tensor w;
        if (Basis is Tensor b)
        {
            w = matmul(b, theta).view(Shape);
        }
        else
        {
            var src = Tying is OrbitTying { Partition.IsUnsigned: true } ? theta : cat(new Tensor[] { theta, zeros(1, dtype: theta.dtype, device: theta.device) });
            w = src.index_select(0, Index!);
            if (Sign is Tensor s) w = w.mul(s);
            w = w.view(Shape);
        }
        if (cacheable)
        {
            InvalidateCache();
            using (no_grad()) cacheSlot[0] = w.detach().clone().DetachFromDisposeScope();
            return cacheSlot[0]!.alias();
        }
        return w;
    }

    /// <summary>Sets θ so that the materialised weight is the closest tied weight to <paramref name="dense"/> (least squares).</summary>
    public void LoadFromDense(Tensor dense)
    {
        if (!dense.shape.SequenceEqual(Shape))
            throw new ArgumentException($"Dense weight has shape [{string.Join(", ", dense.shape)}], expected [{string.Join(", ", Shape)}].");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var theta = Theta;
        var w = dense.to(theta.dtype).to(theta.device).reshape(-1);
        Tensor t;
        if (Basis is Tensor b) t = matmul(b.t(), w);
        else
        {
            var orbits = (OrbitTying)Tying;
            var signed = Sign is Tensor s ? w.mul(s) : w;
            var sums = zeros(orbits.FreeParameterCount + 1, dtype: theta.dtype, device: theta.device).index_add(0, Index!, signed, KeptScalar.Of(1.0));
            var counts = tensor(orbits.Multiplicities.Select(m => (float)m).ToArray(), dtype: theta.dtype, device: theta.device);
            t = sums[TensorIndex.Slice(0, orbits.FreeParameterCount)].div(counts);
        }
        theta.copy_(t);
        InvalidateCache();
    }

    /// <summary>Fills θ with independent draws U(−b_o, b_o), b_o = sqrt(3·variance_o), one variance per free parameter.</summary>
    public void InitUniform(Func<int, double> variancePerParameter, Generator? generator = null)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var theta = Theta;
        var bounds = tensor(Enumerable.Range(0, FreeParameterCount).Select(o => (float)Math.Sqrt(3 * variancePerParameter(o))).ToArray(),
            dtype: theta.dtype, device: theta.device);
        var u = rand(FreeParameterCount, dtype: theta.dtype, device: theta.device, generator: generator).mul(KeptScalar.Of(2)).sub(KeptScalar.Of(1));
        theta.copy_(u.mul(bounds));
        InvalidateCache();
    }

    public override void train(bool on = true)
    {
        base.train(on);
        InvalidateCache();
    }

    public void InvalidateCache()
    {
        cacheSlot[0]?.Dispose();
        cacheSlot[0] = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) InvalidateCache();
        base.Dispose(disposing);
    }
}
