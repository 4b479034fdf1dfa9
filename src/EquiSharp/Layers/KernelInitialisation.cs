namespace EquiSharp.Layers;

/// <summary>
/// The shape facts an initialisation rule needs for one free parameter of a tied kernel: channels (of the
/// materialised weight), receptive field size (product of the kernel's spatial sizes) and how many entries the
/// parameter fills inside one output channel's filter (<see cref="Symmetry.WeightTying.MultiplicitiesWithinSlices"/>).
/// </summary>
public readonly record struct KernelFacts(long InChannels, long OutChannels, long ReceptiveField, int MultiplicityInFilter)
{
    /// <summary>Inputs one output unit sums over: in_channels × receptive field.</summary>
    public double FanIn => InChannels * (double)ReceptiveField;
    /// <summary>Outputs one input unit feeds: out_channels × receptive field.</summary>
    public double FanOut => OutChannels * (double)ReceptiveField;
}

/// <summary>
/// How a tied kernel's free parameters are drawn: each gets the variance the rule returns, uniform
/// U(−b, b) with b = √(3·variance).
/// </summary>
public sealed record KernelInitialisation(string Name, Func<KernelFacts, double> VariancePerFreeParameter)
{
    /// <summary>
    /// Glorot per filter entry, shared among the entries a parameter fills inside one filter: variance
    /// 2/(fan_in + fan_out) / m. A parameter that appears m times in one receptive field contributes m² times its
    /// variance to an output, so dividing by m keeps each filter's output variance at Glorot's. This is the SCNN
    /// paper's half-Glorot (III-B: "each element contributes twice", m = 2 off the diagonal of a preserving kernel;
    /// m = 1 on it, 4 / 2 for a generating kernel); for ties across filters (p4, reverse complement) m = 1 and it is
    /// plain Glorot.
    /// </summary>
    public static KernelInitialisation GlorotPerFilterEntry { get; } = new("glorot", f =>
    {
        double glorotVariance = 2.0 / (f.FanIn + f.FanOut);
        return glorotVariance / f.MultiplicityInFilter;
    });

    /// <summary>
    /// The SCNN authors' code: standard deviation √(0.5 / (C_in + C_out)) for every entry, with no receptive-field
    /// term (their Keras initialiser), whatever the tying.
    /// </summary>
    public static KernelInitialisation Authors { get; } = new("authors", f => 0.5 / (f.InChannels + f.OutChannels));

    /// <summary>The rule with this name ("glorot" or "authors").</summary>
    public static KernelInitialisation Named(string name) => name switch
    {
        "glorot" => GlorotPerFilterEntry,
        "authors" => Authors,
        _ => throw new ArgumentException($"Unknown initialisation '{name}' (expected glorot or authors)."),
    };
}
