using EquiSharp.IO;

namespace EquiSharp.Applications.Rna.Formats;

/// <summary>
/// Thrown when an RNA structure file is malformed or its pairing is inconsistent.
/// The message always names the file and, when known, the 1-based line, the record and the 1-based position.
/// </summary>
public sealed class RnaFormatException : InputFormatException
{
    /// <summary>Creates the exception and composes a message from the location parts.</summary>
    public RnaFormatException(string file, int? line, string? record, int? position, string problem, Exception? inner = null)
        : base(file, line, record, position, problem, inner)
    {
    }
}
