namespace EquiSharp.Tests;

/// <summary>The repository checkout the test binaries were built from (the folder holding EquiSharp.sln).</summary>
internal static class RepositoryRoot
{
    public static string Path
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(System.IO.Path.Combine(d.FullName, "EquiSharp.sln"))) return d.FullName;
            throw new InvalidOperationException("no EquiSharp.sln above the test binaries");
        }
    }
}
