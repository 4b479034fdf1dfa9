using EquiSharp.Applications.Protein.Contacts;
using EquiSharp.Applications.Protein.Features;
using EquiSharp.Applications.Protein.Models;
using static TorchSharp.torch;

namespace EquiSharp.Applications.Protein.Training;

/// <summary>
/// One protein ready for a <see cref="ContactModel"/>: its 1-D features (L × 45), its 3 pair features (MI, DCA and
/// the contact potential of the training proteins, channel-major L × L each), the Cβ contact labels (the training
/// labels, &lt; 8 Å) and the residue mask of the loss (mapped to an alignment column and with coordinates).
/// </summary>
public sealed record ContactExample(ProteinFeatures Protein, float[] PairFeatures, float[] Labels, bool[] Mask)
{
    /// <summary>Residues in the chain.</summary>
    public int Length => Protein.Length;

    /// <summary>Prepares a protein with the potential estimated from the training proteins (never from this one unless it is one of them).</summary>
    public static ContactExample From(ProteinFeatures protein, ResiduePairContactPotential potential, ContactAtom atom = ContactAtom.Beta)
    {
        if (protein.OneDNames.Length != ContactModel.InputFeatures)
            throw new InvalidDataException($"{protein.Name}: {protein.OneDNames.Length} 1-D features, the contact models take {ContactModel.InputFeatures}; rerun 'equisharp protein features'.");
        int n = protein.Length;
        var pairs = new float[ContactModel.PairFeatureNames.Length * n * n];
        for (int c = 0; c < ProteinFeatureBuilder.TwoDNames.Length; c++)
            protein.Channel(ProteinFeatureBuilder.TwoDNames[c]).CopyTo(pairs, c * n * n);
        potential.Map(protein.Sequence).CopyTo(pairs, ProteinFeatureBuilder.TwoDNames.Length * n * n);
        return new ContactExample(protein, pairs, protein.Contacts(atom), protein.EvaluationMask(atom));
    }

    /// <summary>The whole protein as a batch of one (for full-length, tiled prediction).</summary>
    public ContactBatch Whole(Device device) => ContactBatch.Of([this], [new ContactCrop(0, 0, Length)], device);
}

/// <summary>A window [Start, Start + Length) of example <see cref="Example"/>: one item of a training batch.</summary>
public readonly record struct ContactCrop(int Example, int Start, int Length);

/// <summary>
/// A zero-padded batch of crops (SCNN IV-C: "we find the maximum sequence length L_0 among the batch, and use value
/// zero for the smaller sequence"): features (B, L0, 45), pair features (B, 3, L0, L0), labels (B, L0, L0), residue
/// mask (B, L0; 0 for unmapped residues and padding) and lengths (B).
/// </summary>
public sealed record ContactBatch(Tensor Features, Tensor PairFeatures, Tensor Labels, Tensor Mask, Tensor Lengths)
{
    /// <summary>Copies the crops of the examples into padded tensors on <paramref name="device"/>.</summary>
    public static ContactBatch Of(IReadOnlyList<ContactExample> examples, IReadOnlyList<ContactCrop> crops, Device device)
    {
        int b = crops.Count, l = crops.Max(c => c.Length), d = ContactModel.InputFeatures, p = ContactModel.PairFeatureNames.Length;
        var features = new float[b * l * d];
        var pairs = new float[(long)b * p * l * l];
        var labels = new float[(long)b * l * l];
        var mask = new float[b * l];
        var lengths = new long[b];
        for (int k = 0; k < b; k++)
        {
            var (e, start, len) = crops[k];
            var x = examples[e];
            int n = x.Length;
            if (start < 0 || len <= 0 || start + len > n) throw new ArgumentException($"Crop [{start}, {start + len}) outside {x.Protein.Name} (length {n}).");
            lengths[k] = len;
            Array.Copy(x.Protein.OneD, start * d, features, k * l * d, len * d);
            for (int i = 0; i < len; i++)
            {
                mask[k * l + i] = x.Mask[start + i] ? 1f : 0f;
                Array.Copy(x.Labels, (start + i) * n + start, labels, ((long)k * l + i) * l, len);
                for (int c = 0; c < p; c++)
                    Array.Copy(x.PairFeatures, ((long)c * n + start + i) * n + start, pairs, (((long)k * p + c) * l + i) * l, len);
            }
        }
        return new ContactBatch(
            tensor(features, new long[] { b, l, d }, device: device),
            tensor(pairs, new long[] { b, p, l, l }, device: device),
            tensor(labels, new long[] { b, l, l }, device: device),
            tensor(mask, new long[] { b, l }, device: device),
            tensor(lengths, device: device));
    }
}
