using static TorchSharp.torch;

namespace EquiSharp.Pairwise;

/// <summary>
/// Lifetime of the gradients a custom autograd function returns. In TorchSharp a tensor's memory lives as long as its
/// C# wrapper: a gradient returned from <c>backward</c> and left in the caller's dispose scope would stay allocated
/// until that scope ends — for a deep network, every intermediate gradient at once. The autograd engine copies the
/// returned handles as soon as <c>backward</c> returns, so the wrappers are kept out of every scope here and disposed
/// at the next custom backward (or forward) call, when the engine has long taken its own references.
/// </summary>
internal static class GradientHandoff
{
    private static readonly List<Tensor> Pending = new();

    /// <summary>Disposes the wrappers of gradients handed to the engine by earlier calls.</summary>
    public static void ReleaseHandedOff()
    {
        List<Tensor> done;
        lock (Pending) { done = new List<Tensor>(Pending); Pending.Clear(); }
        foreach (var t in done) t.Dispose();
    }

    /// <summary>Takes a gradient out of every dispose scope; its wrapper is disposed by a later <see cref="ReleaseHandedOff"/>.</summary>
    public static Tensor HandOff(Tensor t)
    {
        t.DetachFromDisposeScope();
        lock (Pending) Pending.Add(t);
        return t;
    }
}
