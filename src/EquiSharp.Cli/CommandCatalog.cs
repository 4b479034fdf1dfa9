using System.CommandLine;

namespace EquiSharp.Cli;

/// <summary>A top-level command (or command group) of <c>equisharp</c>; implementations are found by reflection.</summary>
public interface ICliCommand
{
    /// <summary>Builds the System.CommandLine command with its options and action.</summary>
    Command Build();
}

/// <summary>Finds every <see cref="ICliCommand"/> in this assembly, so adding a command is adding one file.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
        typeof(CommandCatalog).Assembly.GetTypes()
            .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => ((ICliCommand)Activator.CreateInstance(t)!).Build())
            .OrderBy(c => c.Name, StringComparer.Ordinal);
}
