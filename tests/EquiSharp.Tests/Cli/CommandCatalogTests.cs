using System.CommandLine;
using EquiSharp.Cli;

namespace EquiSharp.Tests.Cli;

/// <summary>The whole command tree as Program builds it.</summary>
public sealed class CommandCatalogTests
{
    private static IEnumerable<(string Path, Command Command)> Walk(Command c, string path)
    {
        yield return (path, c);
        foreach (var s in c.Subcommands)
            foreach (var x in Walk(s, $"{path} {s.Name}")) yield return x;
    }

    /// <summary>
    /// No command takes two options under one name or alias: the parser would accept one of them silently and the help
    /// would list both (bench rna-profile once had two --threads, one of them ignored).
    /// </summary>
    [Fact]
    public void NoCommandHasTwoOptionsWithOneName()
    {
        var commands = CommandCatalog.All().SelectMany(c => Walk(c, c.Name)).ToList();
        Assert.True(commands.Count > 30, $"only {commands.Count} commands found");
        foreach (var (path, command) in commands)
        {
            var duplicates = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(duplicates.Count == 0, $"equisharp {path}: {string.Join(", ", duplicates)} declared more than once");
        }
    }
}
