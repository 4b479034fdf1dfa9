using EquiSharp.Layers;
using EquiSharp.Layers.Pairwise;
using EquiSharp.Verification;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EquiSharp.Runtime;

namespace EquiSharp.Tests.Layers.Pairwise;

public class MultiKernelSymmetricConv2dTests
{
    private const double Tol = 1e-5;

    [Fact]
    public void DenseModuleIsTheBranchConvolutionsSideBySideNotOnePaddedKernel()
    {
        manual_seed(21);
        var block = PairLayers.MultiKernelSymmetricConv2d(4, new (long, long)[] { (13, 3), (9, 3), (5, 2) });
        var dense = Assert.IsType<ConcatenatedBranches>(block.ToDenseModule());
        // each branch keeps its own kernel size: no zero padding to 13×13
        Assert.Equal(new long[] { 13, 9, 5 }, dense.Branches.Select(b => Assert.IsType<Conv2d>(b).weight!.shape[2]).ToArray());
        long branchWise = 4 * (3 * 13 * 13 + 3 * 9 * 9 + 2 * 5 * 5) + 8;
        Assert.Equal(branchWise, block.DenseParameterCount());
        Assert.True(branchWise < 4 * 8 * 13 * 13 + 8);
        // the same function on any input, symmetric or not
        var x = randn(2, 4, 15, 15);
        using (no_grad())
            Assert.True(Deviation.Relative(dense.forward(x), block.forward(x)) <= Tol);
        // the legacy per-branch export still works
        Assert.Equal(3, block.ToDense().Length);
    }

    [Fact]
    public void SymmetryIsMeasuredAndCanFail()
    {
        manual_seed(22);
        var block = PairLayers.MultiKernelSymmetricConv2d(3, new (long, long)[] { (5, 2), (3, 2) });
        Assert.True(block.MeasureEquivariance(12, new Generator(1)) <= Tol);
        // untie one dense branch: a symmetric input no longer gives a symmetric output
        var dense = (ConcatenatedBranches)block.ToDenseModule();
        using (no_grad()) ((Conv2d)dense.Branches[1]).weight![0, 0, 0, 2] += 1f;
        var a = randn(2, 3, 12, 12);
        using (no_grad())
            Assert.True(Deviation.Asymmetry(dense.forward(a.add(a.transpose(2, 3), KeptScalar.One))) > 1e-3);
    }

    [Fact]
    public void ConcatenatedBranchesNeedsABranch() =>
        Assert.Throws<ArgumentException>(() => new ConcatenatedBranches(Array.Empty<nn.Module<Tensor, Tensor>>()));
}
