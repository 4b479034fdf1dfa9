namespace EquiSharp.Training;

/// <summary>
/// When the trainer writes its latest checkpoint besides every epoch end (and a clean stop): after every
/// <see cref="EverySteps"/> optimizer steps and/or once <see cref="EveryMinutes"/> of wall clock have passed since the
/// last one. A checkpoint in the middle of an epoch holds the position in the epoch's batch order, the running loss
/// sum, the optimizer and the RNG, so a run killed at any moment redoes at most the steps since then, identically.
/// </summary>
public sealed record CheckpointCadence
{
    /// <summary>Checkpoint after this many optimizer steps since the last checkpoint; null = only at epoch ends.</summary>
    public long? EverySteps { get; init; }
    /// <summary>Checkpoint once this many minutes have passed since the last checkpoint; null = no clock.</summary>
    public double? EveryMinutes { get; init; } = DefaultMinutes;

    /// <summary>The default clock: runs with epochs longer than this lose at most this much work.</summary>
    public const double DefaultMinutes = 10;

    /// <summary>Every epoch end, and every <see cref="DefaultMinutes"/> minutes.</summary>
    public static CheckpointCadence Default { get; } = new();

    /// <summary>Checks the values (positive when given); the message names the command-line option.</summary>
    public CheckpointCadence Validated()
    {
        if (EverySteps is <= 0) throw new ArgumentException($"--checkpoint-every {EverySteps}: expected a positive number of steps.");
        if (EveryMinutes is double m && !(m > 0)) throw new ArgumentException(FormattableString.Invariant($"--checkpoint-minutes {m}: expected a positive number of minutes."));
        return this;
    }

    /// <summary>Whether a checkpoint is due after <paramref name="steps"/> steps and <paramref name="elapsed"/> since the last one.</summary>
    public bool Due(long steps, TimeSpan elapsed) =>
        steps > 0 && (EverySteps is long n && steps >= n || EveryMinutes is double m && elapsed.TotalMinutes >= m);
}
