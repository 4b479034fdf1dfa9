using EquiSharp.Applications.Rna.Formats;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Rna;

/// <summary>A window of a record: positions [Start, Start + Length).</summary>
public readonly record struct RnaWindow(int Record, int Start, int Length);

/// <summary>Tensors of a padded batch of RNA windows.</summary>
public sealed record RnaBatchTensors(Tensor OneHot, Tensor Labels, Tensor Lengths);

/// <summary>Turns RNA records into model inputs and pairing-matrix labels.</summary>
public static class RnaFeatures
{
    /// <summary>Classes of the one-hot encoding: A, C, G, U, other.</summary>
    public const int Classes = 5;

    /// <summary>
    /// Padded batch: one-hot (B, L, 5), labels (B, L, L) = the window's block of the full pairing matrix (so a
    /// nucleotide whose partner lies outside the window is unpaired within it), lengths (B).
    /// </summary>
    public static RnaBatchTensors Batch(IReadOnlyList<RnaStructure> records, IReadOnlyList<RnaWindow> windows, Device? device = null)
    {
        int b = windows.Count, l = windows.Max(w => w.Length);
        var onehot = new float[b * l * Classes];
        var labels = new float[b * l * l];
        var lengths = new long[b];
        for (int k = 0; k < b; k++)
        {
            var w = windows[k];
            var r = records[w.Record];
            lengths[k] = w.Length;
            for (int p = 0; p < w.Length; p++)
            {
                onehot[(k * l + p) * Classes + RnaStructure.BaseIndex(r.Sequence[w.Start + p])] = 1f;
                int q = r.Partners[w.Start + p] - w.Start;
                if (q >= 0 && q < w.Length) labels[(k * (long)l + p) * l + q] = 1f;
            }
        }
        return new RnaBatchTensors(
            tensor(onehot, new long[] { b, l, Classes }, device: device),
            tensor(labels, new long[] { b, l, l }, device: device),
            tensor(lengths, device: device));
    }

    /// <summary>One-hot (1, L, 5) of a raw sequence (letters normalised like the readers do).</summary>
    public static Tensor OneHot(string sequence, Device? device = null)
    {
        var data = new float[sequence.Length * Classes];
        for (int p = 0; p < sequence.Length; p++) data[p * Classes + RnaStructure.BaseIndex(sequence[p])] = 1f;
        return tensor(data, new long[] { 1, sequence.Length, Classes }, device: device);
    }

    /// <summary>The 0/1 pairing matrix of a structure, row-major.</summary>
    public static float[] PairingMatrix(RnaStructure r)
    {
        var m = new float[r.Length * r.Length];
        for (int i = 0; i < r.Length; i++) if (r.Partners[i] >= 0) m[i * r.Length + r.Partners[i]] = 1f;
        return m;
    }
}
