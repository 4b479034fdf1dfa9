namespace EquiSharp.Applications.Rna.Formats;

/// <summary>Supported RNA secondary-structure file formats.</summary>
public enum RnaFileFormat
{
    /// <summary>Connectivity table (mfold / RNAstructure style), one or more structures per file.</summary>
    Ct,
    /// <summary>BPSEQ: "index base partner" lines, partner 0 = unpaired.</summary>
    Bpseq,
    /// <summary>FASTA-style dot-bracket: ">name", sequence line(s), structure line.</summary>
    DotBracketFasta,
    /// <summary>CSV with a header naming the columns rna_name, seq, struct (dot-bracket).</summary>
    Csv,
    /// <summary>
    /// Five-line numeric records (ss-inf / SCNN 16S files): name; base codes A=0 C=1 G=2 U=3 other=4;
    /// 1-based partners with 0 = unpaired; paired flags; blank line.
    /// </summary>
    FiveLine,
}

/// <summary>Options for <see cref="RnaFile.Read"/>.</summary>
public sealed record RnaReadOptions
{
    /// <summary>Force a format instead of detecting it from the content.</summary>
    public RnaFileFormat? Format { get; init; }

    /// <summary>Five-line format: require the paired-flag line to agree with the partners (default true).</summary>
    public bool CheckPairedFlags { get; init; } = true;
}

/// <summary>The records read from one file, with non-fatal warnings.</summary>
/// <param name="Path">The file that was read.</param>
/// <param name="Format">The detected (or forced) format.</param>
/// <param name="Records">Structures in file order.</param>
/// <param name="UnknownLetterCount">Letters other than A/C/G/U/T (any case) that were mapped to N.</param>
/// <param name="Warnings">Human-readable warnings, e.g. the unknown-letter summary.</param>
public sealed record RnaReadResult(
    string Path,
    RnaFileFormat Format,
    IReadOnlyList<RnaStructure> Records,
    int UnknownLetterCount,
    IReadOnlyList<string> Warnings);

/// <summary>A file that <see cref="RnaFile.ReadDirectory"/> could not read.</summary>
public sealed record SkippedFile(string Path, string Reason);

/// <summary>Result of reading every file in a directory.</summary>
/// <param name="Files">Files that parsed, in ordinal path order.</param>
/// <param name="Skipped">Files that did not parse, with the reason.</param>
public sealed record RnaDirectoryReadResult(IReadOnlyList<RnaReadResult> Files, IReadOnlyList<SkippedFile> Skipped)
{
    /// <summary>All records of all parsed files.</summary>
    public IEnumerable<RnaStructure> Records => Files.SelectMany(f => f.Records);
}
