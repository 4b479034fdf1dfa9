using System.Reflection;
using EquiSharp.Layers;
using EquiSharp.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace EquiSharp.Tests.Layers;

/// <summary>
/// One contract test case: a small instance of <paramref name="Type"/>, the size its checks use (map side L or set
/// size N) and a random input of that size for the dense-export comparison.
/// </summary>
/// <param name="Name">Unique name shown in the test list.</param>
/// <param name="Type">The IEquivariantModule type the case covers (must be what <paramref name="Create"/> returns).</param>
/// <param name="Create">Builds a small instance with non-trivial parameters.</param>
/// <param name="Size">Size passed to MeasureEquivariance, ToDenseModule and DenseParameterCount.</param>
/// <param name="Input">A random input of that size for the module's forward.</param>
public sealed record ContractCase(string Name, Type Type, Func<IEquivariantModule> Create, long Size, Func<long, Generator, Tensor> Input);

/// <summary>
/// A layer family's contract test cases. Every class of the test assembly implementing it (with a parameterless
/// constructor) is found by reflection: a new family adds one such class in its own test folder, next to its tests.
/// </summary>
public interface IContractCaseSource
{
    IEnumerable<ContractCase> Cases();
}

/// <summary>Runs the contract cases alone, not beside other tests.</summary>
/// <remarks>
/// Measured alone, every case deviates by at most a few 1e-7; the deep p4m All-CNN-C stays at or below 3.1e-7 over 20
/// initialisation seeds and 6 repeated runs. One CI run of the whole suite saw it at 2.1e-5 while other tests ran in
/// parallel; that was not reproduced in 3 more full runs. The contract bounds the module, so it is measured alone. The
/// bound stays 1e-5 rather than being widened.
/// </remarks>
[CollectionDefinition("equivariance-contracts", DisableParallelization = true)]
public sealed class EquivarianceContractsCollection;

/// <summary>
/// The contract every <see cref="IEquivariantModule"/> keeps, checked for every case of every <see cref="IContractCaseSource"/>;
/// and a guard that no type implementing the contract in the library lacks a case.
/// </summary>
[Collection("equivariance-contracts")]
public class EquivariantModuleContractTests
{
    private const double Tol = 1e-5;

    private static IReadOnlyList<ContractCase> AllCases() =>
        typeof(EquivariantModuleContractTests).Assembly.GetTypes()
            .Where(t => typeof(IContractCaseSource).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .SelectMany(t => ((IContractCaseSource)Activator.CreateInstance(t)!).Cases())
            .ToList();

    public static IEnumerable<object[]> CaseNames() => AllCases().Select(c => new object[] { c.Name });

    [Fact]
    public void EveryEquivariantModuleInTheLibraryHasAContractCase()
    {
        var implementers = typeof(IEquivariantModule).Assembly.GetTypes()
            .Where(t => typeof(IEquivariantModule).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false });
        var covered = AllCases().Select(c => c.Type).ToHashSet();
        var missing = implementers.Where(t => !covered.Contains(t)).Select(t => t.FullName).OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0,
            $"IEquivariantModule types without a contract test case: {string.Join(", ", missing)}. " +
            $"Add a {nameof(ContractCase)} for each to an {nameof(IContractCaseSource)} class in the family's test folder.");
    }

    [Fact]
    public void CaseNamesAreUnique()
    {
        var duplicated = AllCases().GroupBy(c => c.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicated.Count == 0, $"duplicate contract case names: {string.Join(", ", duplicated)}");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ModuleKeepsTheContract(string name)
    {
        var c = AllCases().Single(x => x.Name == name);
        using var scope = NewDisposeScope();
        var gen = new Generator(1234);
        // the initialisation draws from torch's global generator: seeded, so a case's weights do not depend on which
        // tests ran before it (fp32 rounding of a deep random network varies with them; allcnn-p4m once reached 3.7e-5)
        manual_seed(1234);
        var layer = c.Create();
        Assert.IsType(c.Type, layer);
        var module = (nn.Module<Tensor, Tensor>)layer;
        Assert.False(string.IsNullOrWhiteSpace(layer.InputDescription), "InputDescription is empty");
        Assert.False(string.IsNullOrWhiteSpace(layer.OutputDescription), "OutputDescription is empty");
        Assert.False(string.IsNullOrWhiteSpace(layer.SymmetryDescription), "SymmetryDescription is empty");

        // the symmetry claim, measured by the module itself
        double deviation = layer.MeasureEquivariance(c.Size, gen);
        Assert.True(deviation <= Tol, $"{name}: equivariance deviation {deviation}");

        // free parameters are exactly the trainable values; the dense module holds DenseParameterCount(size)
        Assert.Equal(layer.FreeParameterCount, module.parameters().Sum(p => p.numel()));
        Assert.True(layer.FreeParameterCount <= layer.DenseParameterCount(c.Size));
        var dense = layer.ToDenseModule(c.Size);
        Assert.False(dense is IEquivariantModule, "ToDenseModule must return a plain module, not another equivariant one");
        Assert.Equal(layer.DenseParameterCount(c.Size), dense.parameters().Sum(p => p.numel()));

        // the dense module computes the same function (eval mode: running statistics, no dropout)
        module.eval();
        var x = c.Input(c.Size, gen);
        using var _ = no_grad();
        var expected = module.forward(x);
        Assert.True(expected.abs().max().to(ScalarType.Float64).item<double>() > 1e-3, $"{name}: the output is (near) zero, the comparison would be vacuous");
        double dev = Deviation.Relative(dense.forward(x).to(ScalarType.Float32), expected.to(ScalarType.Float32));
        Assert.True(dev <= Tol, $"{name}: dense module deviates by {dev}");
    }
}
