using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EquiSharp.Pairwise;

/// <summary>
/// Several symmetry-preserving convolutions of different kernel sizes on the same input, concatenated on channels
/// (the RNA model's 13/9/5 and 9/5 blocks). Symmetric in → symmetric out. (B, m, L, L) → (B, ΣF_b, L, L).
/// </summary>
public sealed class MultiKernelSymmetricConv2d : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<SymmetryPreservingConv2d> branches;

    public long InChannels { get; }
    public long OutChannels { get; }
    public IReadOnlyList<SymmetryPreservingConv2d> Branches => branches.ToList();
    public long FreeParameterCount => branches.Sum(b => b.FreeParameterCount);
    /// <summary>The widest branch's reach (<see cref="SymmetricConv2d.Reach"/>).</summary>
    public long Reach => branches.Max(b => b.Reach);

    internal MultiKernelSymmetricConv2d(long inChannels, (long KernelSize, long OutChannels)[] spec, bool bias, Device? device, ScalarType? dtype)
        : base(nameof(MultiKernelSymmetricConv2d))
    {
        if (spec.Length == 0) throw new ArgumentException("MultiKernelSymmetricConv2d needs at least one (kernel_size, out_channels) branch.", nameof(spec));
        InChannels = inChannels;
        OutChannels = spec.Sum(s => s.OutChannels);
        branches = new ModuleList<SymmetryPreservingConv2d>(spec.Select(s =>
            new SymmetryPreservingConv2d(inChannels, s.OutChannels, s.KernelSize, 1, bias, device, dtype)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => cat(branches.Select(b => b.forward(input)).ToArray(), 1);

    /// <summary>Plain convolutions with the materialised weights, one per branch (concatenate their outputs).</summary>
    public Conv2d[] ToDense() => branches.Select(b => b.ToDense()).ToArray();

    public override string ToString() =>
        $"MultiKernelSymmetricConv2d({InChannels} → {OutChannels}; branches {string.Join(", ", branches.Select(b => $"{b.KernelSize}×{b.KernelSize}:{b.OutChannels}"))}; free parameters {FreeParameterCount})";
}
