using System.Globalization;

namespace EquiSharp.Applications.Rna.Training;

/// <summary>
/// The training crop as a function of the optimizer step (a crop curriculum): "128:0,256:1000,512:2000" trains on
/// windows of at most 128 nt from step 0, 256 from step 1000 and 512 from step 2000. Short crops are cheap and give
/// many steps early; only long crops show long-range pairs (in 16S rRNA about a fifth of the pairs span ≥ 128 nt).
/// Steps count from 0 (the first optimizer step is step 0), so the crop of a batch depends only on its position in the
/// run and a resumed run crops exactly as an uninterrupted one.
/// </summary>
public sealed class CropSchedule
{
    /// <summary>(first step, crop) pairs, by increasing step; the first starts at step 0.</summary>
    public IReadOnlyList<(long FromStep, int Crop)> Stages { get; }

    public CropSchedule(IReadOnlyList<(long FromStep, int Crop)> stages)
    {
        if (stages.Count == 0) throw new ArgumentException("A crop schedule needs at least one crop.");
        if (stages[0].FromStep != 0) throw new ArgumentException($"A crop schedule starts at step 0, got {stages[0].FromStep} first.");
        for (int k = 0; k < stages.Count; k++)
        {
            if (stages[k].Crop <= 0) throw new ArgumentException($"Crop {stages[k].Crop} at step {stages[k].FromStep}: crops must be positive.");
            if (k > 0 && stages[k].FromStep <= stages[k - 1].FromStep)
                throw new ArgumentException($"Crop schedule steps must increase: {stages[k - 1].FromStep} then {stages[k].FromStep}.");
        }
        Stages = stages.ToArray();
    }

    /// <summary>One crop for the whole run.</summary>
    public static CropSchedule Constant(int crop) => new(new[] { (0L, crop) });

    /// <summary>The crop of the batch trained at <paramref name="step"/> (0-based).</summary>
    public int CropAt(long step)
    {
        int crop = Stages[0].Crop;
        foreach (var (from, c) in Stages)
            if (step >= from) crop = c;
        return crop;
    }

    /// <summary>The crop of the first steps (what a base rate at initialisation refers to).</summary>
    public int Initial => Stages[0].Crop;

    /// <summary>The longest crop of the run.</summary>
    public int Longest => Stages.Max(s => s.Crop);

    /// <summary>Parses "CROP:STEP,CROP:STEP,…" (e.g. "128:0,256:1000,512:2000"), or one CROP for the whole run; messages name the option.</summary>
    public static CropSchedule Parse(string text)
    {
        if (int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int constant))
            return constant > 0 ? Constant(constant) : throw new ArgumentException($"--crop-schedule {text}: crops must be positive.");
        var stages = new List<(long, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = part.Split(':');
            if (fields.Length != 2
                || !int.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int crop)
                || !long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long step))
                throw new ArgumentException($"--crop-schedule {text}: '{part}' is not CROP:STEP (e.g. 128:0,256:1000,512:2000).");
            stages.Add((step, crop));
        }
        try { return new CropSchedule(stages); }
        catch (ArgumentException e) { throw new ArgumentException($"--crop-schedule {text}: {e.Message}"); }
    }

    /// <summary>The text <see cref="Parse"/> reads ("128" for one crop throughout).</summary>
    public override string ToString() => Stages.Count == 1 ? Stages[0].Crop.ToString(CultureInfo.InvariantCulture)
        : string.Join(",", Stages.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Crop}:{s.FromStep}")));
}
