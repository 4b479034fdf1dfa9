using System.IO.Compression;
using System.Text;

namespace EquiSharp.Tests;

/// <summary>A temporary directory deleted on dispose, with helpers to write plain and gzip text files.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("equisharp-test-").FullName;

    public string Write(string name, string text)
    {
        string file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, text, new UTF8Encoding(false));
        return file;
    }

    public string WriteGzip(string name, string text)
    {
        string file = System.IO.Path.Combine(Path, name);
        using var gz = new GZipStream(File.Create(file), CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(text));
        return file;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
