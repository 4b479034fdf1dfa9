using static TorchSharp.torch;

namespace EquiSharp.Layers;

/// <summary>
/// Lifetime of the gradients a custom autograd function returns. In TorchSharp a tensor's memory lives as long as its
/// C# wrapper: a gradient returned from <c>backward</c> and left in the caller's dispose scope would stay allocated
/// until that scope ends — for a deep network, every intermediate gradient at once. The autograd engine copies the
/// returned handles as soon as <c>backward</c> returns, so the wrappers are kept out of every scope here and disposed
/// at the next custom backward (or forward) call, when the engine has long taken its own references.
/// </summary>
internal static class GradientHandoff
{
    // Per thread: libtorch runs a CPU graph's backward on the thread that called it, so "the next custom call" must be
    // the next one on the same thread. A process-wide list let a test (or a user's second model) on another thread
    // dispose a gradient before this thread's engine had taken it (seen as an intermittent null gradient in parallel tests).
    [ThreadStatic] private static List<Tensor>? pending;

    /// <summary>Disposes the wrappers of gradients this thread handed to the engine in earlier calls.</summary>
    public static void ReleaseHandedOff()
    {
        if (pending is null || pending.Count == 0) return;
        var done = pending;
        pending = new List<Tensor>();
        foreach (var t in done) t.Dispose();
    }

    /// <summary>Takes a gradient out of every dispose scope; its wrapper is disposed by a later <see cref="ReleaseHandedOff"/> on this thread.</summary>
    public static Tensor HandOff(Tensor t)
    {
        t.DetachFromDisposeScope();
        (pending ??= new List<Tensor>()).Add(t);
        return t;
    }
}
