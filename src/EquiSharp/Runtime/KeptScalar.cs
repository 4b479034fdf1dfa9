using TorchSharp;

namespace EquiSharp.Runtime;

/// <summary>
/// Numbers for TorchSharp calls that take a <see cref="Scalar"/>, as Scalars that stay alive until the call has returned.
/// <para>
/// TorchSharp converts a number passed where a Scalar is expected (<c>x.mul(2)</c>, <c>x * 0.5</c>, <c>alpha: 1 - β</c>)
/// into a new Scalar, hands its native handle to libtorch and never touches the .NET object again. A garbage collection
/// started by another thread while the native op runs may then finalize it and free the <c>c10::Scalar</c> libtorch is
/// still reading: a NaN loss, a wrong update or "Expected false to be true" from <c>Scalar::toLong</c> (docs/performance.md
/// §6; upstream dotnet/TorchSharp #1434, #1496). How often depends on the machine's GC budget: on one 2-core AVX-512 host a
/// training run from an older build met it in 3 of 7 starts within four steps.
/// </para>
/// <para>
/// <see cref="Of(double)"/> returns a Scalar that the calling thread keeps reachable while it creates its next
/// <see cref="Capacity"/> Scalars, and then disposes: an argument built for a call is consumed long before the thread builds
/// that many more, and nothing waits for the finalizer. Use it only for arguments, never for a Scalar kept in a field.
/// The build rejects TorchSharp's implicit conversions (build/BannedSymbols.txt), so every number reaches it through here.
/// </para>
/// </summary>
public static class KeptScalar
{
    /// <summary>How many of a thread's most recent Scalars are kept alive.</summary>
    public const int Capacity = 256;

    [ThreadStatic] private static Scalar?[]? recent;
    [ThreadStatic] private static int next;

    /// <summary>
    /// The integer 1, held for the process's lifetime: the <c>alpha</c> of <c>add(other, alpha)</c>, which callers pass
    /// themselves because TorchSharp's <c>add(other)</c> and <c>a + b</c> create an unprotected one inside.
    /// </summary>
    public static Scalar One { get; } = 1.ToScalar();

    /// <summary>
    /// <c>arange(stop)</c> with every bound kept alive (TorchSharp's one-argument overload creates its start and step
    /// inside): 0, 1, …, stop − 1, int64 unless <paramref name="dtype"/> says otherwise (the three-bound overload would
    /// otherwise default to the floating-point type).
    /// </summary>
    public static TorchSharp.torch.Tensor Range(long stop, TorchSharp.torch.ScalarType? dtype = null, TorchSharp.torch.Device? device = null) =>
        TorchSharp.torch.arange(Of(0L), Of(stop), Of(1L), dtype ?? TorchSharp.torch.ScalarType.Int64, device);

    /// <summary>A double-precision Scalar (what TorchSharp's implicit conversion of a <c>double</c> makes).</summary>
    public static Scalar Of(double value) => Keep(value.ToScalar());

    /// <summary>A single-precision Scalar.</summary>
    public static Scalar Of(float value) => Keep(value.ToScalar());

    /// <summary>A 64-bit integer Scalar.</summary>
    public static Scalar Of(long value) => Keep(value.ToScalar());

    /// <summary>A 32-bit integer Scalar (integer tensors stay integer, as with the implicit conversion of an <c>int</c>).</summary>
    public static Scalar Of(int value) => Keep(value.ToScalar());

    /// <summary>A boolean Scalar.</summary>
    public static Scalar Of(bool value) => Keep(value.ToScalar());

    private static Scalar Keep(Scalar scalar)
    {
        var ring = recent ??= new Scalar?[Capacity];
        ring[next]?.Dispose();
        ring[next] = scalar;
        next = (next + 1) % Capacity;
        return scalar;
    }
}
