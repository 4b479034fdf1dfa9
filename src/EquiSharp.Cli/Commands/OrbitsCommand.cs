using System.CommandLine;
using EquiSharp.Symmetry;

namespace EquiSharp.Cli.Commands;

/// <summary>
/// <c>equisharp orbits</c>: derives the weight-sharing classes of an equivariant linear or quadratic map from a group
/// and its actions, prints them (and the colour pattern for small sizes); the last line is <c>free_parameters=n</c>.
/// </summary>
public sealed class OrbitsCommand : ICliCommand
{
    public Command Build()
    {
        var group = new Option<string>("--group") { Description = "Group acting on the N inputs: sym:N, cyc:N, or pairs:N (permutations of S_N preserving the pairing {i, i+N/2}).", DefaultValueFactory = _ => "sym:4" };
        var map = new Option<string>("--map") { Description = "linear (y_k = Σ_i W_ki x_i) or quadratic (y_k = Σ_ij A^k_ij x_i x_j).", DefaultValueFactory = _ => "linear" };
        var pairs = new Option<bool>("--symmetric-pairs") { Description = "Quadratic map: also identify A^k_ij with A^k_ji (x_i x_j = x_j x_i)." };
        var output = new Option<string>("--output") { Description = "Action on the outputs: natural (y_k ↦ y_σ(k)), fold (the notes' output folded in half, y_i = y_{i+N/2}) or trivial (one invariant output).", DefaultValueFactory = _ => "natural" };
        var inChannels = new Option<int>("--in-channels") { Description = "Input channels per point.", DefaultValueFactory = _ => 1 };
        var outChannels = new Option<int>("--out-channels") { Description = "Output channels per point.", DefaultValueFactory = _ => 1 };
        var command = new Command("orbits", "Derive the equivariant weight-sharing pattern (orbit classes) of a linear or quadratic map.")
        {
            group, map, pairs, output, inChannels, outChannels,
        };
        command.SetAction(parse =>
        {
            try
            {
                return Run(parse.GetValue(group)!, parse.GetValue(map)!, parse.GetValue(pairs), parse.GetValue(output)!,
                    parse.GetValue(inChannels), parse.GetValue(outChannels));
            }
            catch (IncompatibleActionException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                if (e.LargestValidSubgroup is { } sub && sub.Name.StartsWith("pairs:", StringComparison.Ordinal))
                    Console.Error.WriteLine($"hint: equisharp orbits --group {sub.Name} --map {parse.GetValue(map)} --output {parse.GetValue(output)}");
                return 2;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static int Run(string groupSpec, string mapName, bool symmetricPairs, string outputName, int inChannels, int outChannels)
    {
        var g = PermutationGroup.Parse(groupSpec);
        var input = GroupAction.Natural(g);
        var output = outputName switch
        {
            "natural" => GroupAction.Natural(g),
            "fold" => GroupAction.Folded(g),
            "trivial" => GroupAction.Trivial(g),
            _ => throw new ArgumentException($"--output must be natural, fold or trivial, got '{outputName}'."),
        };
        var pattern = mapName switch
        {
            "linear" => EquivariantPattern.Linear(input, output, inChannels, outChannels),
            "quadratic" => EquivariantPattern.Quadratic(input, output, symmetricPairs, inChannels, outChannels),
            _ => throw new ArgumentException($"--map must be linear or quadratic, got '{mapName}'."),
        };
        if (symmetricPairs && mapName == "linear") Console.WriteLine("note: --symmetric-pairs only affects quadratic maps");

        Console.WriteLine($"group:   {g.Name}, order {g.Order()}, generators {(g.GeneratorNames.Count == 0 ? "none" : string.Join(", ", g.GeneratorNames))}");
        Console.WriteLine($"input:   {input}");
        Console.WriteLine($"output:  {output}");
        var shape = pattern.Symmetry.Shape;
        string formula = mapName == "linear" ? "y_k = Σ_i W[k,i] x_i" : "y_k = Σ_ij A[k,i,j] x_i x_j" + (symmetricPairs ? ", A[k,i,j] = A[k,j,i]" : "");
        Console.WriteLine($"map:     {mapName}, {formula}; weight shape [{string.Join(", ", shape)}] = {TensorShapeText(shape)} entries");

        bool channels = inChannels > 1 || outChannels > 1;
        string header = mapName == "linear" ? (channels ? "(k,o,i,c)" : "(k,i)") : (channels ? "(k,o,i,c,j,d)" : "(k,i,j)");
        var classes = pattern.Classes();
        Console.WriteLine($"classes: {classes.Count}");
        Console.WriteLine($"  {"class",5}  {"size",6}  {"first " + header,-22}  kind");
        foreach (var c in classes)
        {
            var rep = channels ? c.Representative : c.Representative.Where((_, a) => a % 2 == 0).ToArray();
            Console.WriteLine($"  {c.Index,5}  {c.Size,6}  {"(" + string.Join(",", rep) + ")",-22}  {c.Kind}");
        }
        if (!channels && input.Size <= 10) PrintPattern(pattern);
        Console.WriteLine($"free_parameters={pattern.FreeParameterCount}");
        return 0;
    }

    private static string TensorShapeText(long[] shape) => TensorShape.Numel(shape).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The colour pattern: class number of every entry (linear: rows k, columns i; quadratic: one block per k).</summary>
    private static void PrintPattern(EquivariantPattern pattern)
    {
        int m = pattern.Output.Size, n = pattern.Input.Size;
        var orbitOf = pattern.Partition.OrbitOf;
        int width = Math.Max(1, (pattern.FreeParameterCount - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        string Cell(int o) => (o < 0 ? "0" : o.ToString(System.Globalization.CultureInfo.InvariantCulture)).PadLeft(width);
        Console.WriteLine("pattern (class of each entry):");
        if (pattern.Map == "linear")
        {
            for (int k = 0; k < m; k++)
                Console.WriteLine("  " + string.Join(" ", Enumerable.Range(0, n).Select(i => Cell(orbitOf[k * n + i]))));
            return;
        }
        for (int k = 0; k < m; k++)
        {
            Console.WriteLine($"  k={k}:");
            for (int i = 0; i < n; i++)
                Console.WriteLine("    " + string.Join(" ", Enumerable.Range(0, n).Select(j => Cell(orbitOf[(k * n + i) * n + j]))));
        }
    }
}
