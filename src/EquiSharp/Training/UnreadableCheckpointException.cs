namespace EquiSharp.Training;

/// <summary>What is wrong with a checkpoint or model file that cannot be used.</summary>
public enum CheckpointProblem
{
    /// <summary>The file ends before its content does (a copy or write that stopped part-way).</summary>
    Truncated,
    /// <summary>The file is not what its name says (another format, or overwritten with something else).</summary>
    NotACheckpoint,
    /// <summary>The file is well formed but was written by an incompatible version of EquiSharp (or for another model).</summary>
    IncompatibleVersion,
    /// <summary>The file has the right length but not the content its checksum was written with.</summary>
    Corrupted,
}

/// <summary>
/// A checkpoint or model file that cannot be used; the message is one line naming the file and the problem. It is an
/// <see cref="IOException"/> (InvalidDataException is sealed), so the CLI reports it as bad input (<c>error: …</c>, exit code 1).
/// </summary>
public sealed class UnreadableCheckpointException(string path, CheckpointProblem problem, string detail, Exception? inner = null)
    : IOException($"{path}: {Describe(problem)} ({detail})", inner)
{
    public string Path { get; } = path;
    public CheckpointProblem Problem { get; } = problem;

    private static string Describe(CheckpointProblem problem) => problem switch
    {
        CheckpointProblem.Truncated => "truncated",
        CheckpointProblem.NotACheckpoint => "not a checkpoint file",
        CheckpointProblem.IncompatibleVersion => "written by an incompatible version",
        _ => "corrupted",
    };
}
