using EquiSharp.Applications.Protein.Formats;

namespace EquiSharp.Applications.Protein.Contacts;

/// <summary>Which atom stands for a residue in contact definitions.</summary>
public enum ContactAtom
{
    /// <summary>Cβ (Cα for glycine): the field's standard (CASP), used for training labels.</summary>
    Beta,
    /// <summary>Cα: the SCNN paper's definition (section IV-C).</summary>
    Alpha,
}

/// <summary>Residue–residue distances and contact maps of a chain (L × L, row-major, symmetric).</summary>
public static class ContactMaps
{
    /// <summary>Contact threshold in Å: residues closer than this are in contact.</summary>
    public const double Threshold = 8.0;

    /// <summary>Parses "cb" or "ca" (the CLI's --atom).</summary>
    public static ContactAtom ParseAtom(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cb" => ContactAtom.Beta,
        "ca" => ContactAtom.Alpha,
        _ => throw new ArgumentException($"--atom {text}: expected cb or ca."),
    };

    /// <summary>
    /// Distances between the chosen atoms of every residue pair, L × L row-major; NaN where a residue lacks the atom
    /// (and has no Cα fallback). The diagonal is 0.
    /// </summary>
    public static float[] Distances(PdbChain chain, ContactAtom atom)
    {
        int n = chain.Length;
        var points = chain.Residues.Select(r => atom == ContactAtom.Beta ? r.Beta : r.Alpha).ToArray();
        var d = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++)
            {
                float v = i == j ? 0f : points[i] is Point3 p && points[j] is Point3 q ? (float)p.DistanceTo(q) : float.NaN;
                d[i * n + j] = d[j * n + i] = v;
            }
        return d;
    }

    /// <summary>Contact map from distances: 1 where the distance is below <paramref name="threshold"/> (NaN is no contact); diagonal 0.</summary>
    public static float[] FromDistances(float[] distances, int length, double threshold = Threshold)
    {
        if (distances.Length != length * length) throw new ArgumentException($"Expected {length}×{length} distances.", nameof(distances));
        var map = new float[distances.Length];
        for (int i = 0; i < length; i++)
            for (int j = 0; j < length; j++)
                map[i * length + j] = i != j && distances[i * length + j] < threshold ? 1f : 0f;
        return map;
    }

    /// <summary>
    /// True for residues with coordinates: a residue lacking its atom has NaN to every other residue, while a residue
    /// that has one sees NaN only towards the residues that lack theirs.
    /// </summary>
    public static bool[] HasCoordinates(float[] distances, int length) =>
        Enumerable.Range(0, length)
            .Select(i => length == 1 || Enumerable.Range(0, length).Any(j => j != i && !float.IsNaN(distances[i * length + j])))
            .ToArray();
}
