using System.Diagnostics;
using System.Globalization;
using System.Text;
using EquiSharp.IO;

namespace EquiSharp.Applications.Rna.Data;

/// <summary>
/// Sequence-identity clusters from <c>cd-hit-est</c> (Debian package <c>cd-hit</c>): records whose sequences are at
/// least <see cref="CdHitOptions.Identity"/> identical (over the shorter one) share a cluster, so a split that keeps
/// clusters whole keeps near-duplicates and close homologues out of the test set. cd-hit is greedy: sequences are taken
/// longest first and join the first representative they match, else start a cluster (Fu et al. 2012).
/// </summary>
public static class IdentityClusters
{
    /// <summary>Options passed to cd-hit-est: identity threshold (-c), word size (-n), threads (-T).</summary>
    public sealed record CdHitOptions(double Identity = 0.8, int WordSize = 5, int Threads = 1, string Executable = "cd-hit-est");

    /// <summary>The word sizes cd-hit-est accepts for an identity threshold (its user guide's table).</summary>
    public static bool WordSizeFits(double identity, int word) => word switch
    {
        >= 8 and <= 11 => identity >= 0.90,
        7 => identity >= 0.88,
        6 => identity >= 0.85,
        5 => identity >= 0.80,
        4 => identity >= 0.75,
        _ => false,
    };

    /// <summary>
    /// Clusters <paramref name="sequences"/> and returns a cluster number per sequence (0-based, in cd-hit's order).
    /// Sequences cd-hit skips (shorter than 11 nt) become clusters of their own. RNA letters are written as DNA (U → T).
    /// </summary>
    /// <exception cref="InvalidOperationException">cd-hit-est is missing or fails (with its message).</exception>
    public static int[] Cluster(IReadOnlyList<string> sequences, CdHitOptions options, string workDir)
    {
        if (!WordSizeFits(options.Identity, options.WordSize))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"cd-hit-est cannot use word size {options.WordSize} at identity {options.Identity} (5 needs >= 0.80, 4 >= 0.75, 6 >= 0.85, 7 >= 0.88, 8-11 >= 0.90)."));
        Directory.CreateDirectory(workDir);
        string fasta = Path.Combine(workDir, "sequences.fa"), output = Path.Combine(workDir, "cd-hit");
        using (var w = new StreamWriter(fasta))
            for (int i = 0; i < sequences.Count; i++)
                w.Write($">s{i}\n{sequences[i].ToUpperInvariant().Replace('U', 'T')}\n");
        var start = new ProcessStartInfo(options.Executable)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "-i", fasta, "-o", output, "-c", options.Identity.ToString(CultureInfo.InvariantCulture), "-n", options.WordSize.ToString(CultureInfo.InvariantCulture),
                                  "-d", "0", "-M", "0", "-T", options.Threads.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(start) ?? throw new InvalidOperationException("could not start cd-hit-est."); }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException($"'{options.Executable}' was not found: install it (Debian/Ubuntu: apt-get install cd-hit). It is needed to build the split only, not to predict.");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"cd-hit-est failed (exit {process.ExitCode}): {stderr.Trim()} {stdout.Result.Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.Trim()}");
        }
        return ParseClusters(output + ".clstr", sequences.Count);
    }

    /// <summary>
    /// Reads a cd-hit <c>.clstr</c> file whose members are named <c>s&lt;index&gt;</c>; indices it does not list get
    /// clusters of their own after the listed ones.
    /// </summary>
    /// <exception cref="InputFormatException">A line that is neither a cluster header nor a member line.</exception>
    public static int[] ParseClusters(string path, int count)
    {
        var cluster = Enumerable.Repeat(-1, count).ToArray();
        int current = -1, next = 0, lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            string line = raw.TrimEnd();
            if (line.Length == 0) continue;
            if (line.StartsWith(">Cluster ", StringComparison.Ordinal)) { current = next++; continue; }
            int gt = line.IndexOf(">s", StringComparison.Ordinal), dots = line.IndexOf("...", StringComparison.Ordinal);
            if (current < 0 || gt < 0 || dots < gt || !int.TryParse(line.AsSpan(gt + 2, dots - gt - 2), NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= count)
                throw new InputFormatException(path, lineNumber, null, null, $"expected '>Cluster N' or a member line like '0  120nt, >s12... *', got '{line}'");
            cluster[index] = current;
        }
        for (int i = 0; i < count; i++) if (cluster[i] < 0) cluster[i] = next++;
        return cluster;
    }

    /// <summary>
    /// Assigns whole clusters to splits: each cluster draws its split independently from <paramref name="fractions"/>
    /// (e.g. 0.9 / 0.05 / 0.05) with a generator seeded by <paramref name="seed"/>, in cluster order.
    /// </summary>
    public static int[] AssignSplits(int[] clusterOf, double[] fractions, int seed)
    {
        if (fractions.Length == 0 || fractions.Any(f => f < 0) || Math.Abs(fractions.Sum() - 1) > 1e-9)
            throw new ArgumentException("split fractions must be non-negative and sum to 1.");
        int clusters = clusterOf.Length == 0 ? 0 : clusterOf.Max() + 1;
        var rng = new Random(seed);
        var splitOfCluster = new int[clusters];
        for (int c = 0; c < clusters; c++)
        {
            double u = rng.NextDouble(), sum = 0;
            int s = 0;
            while (s < fractions.Length - 1 && u >= (sum += fractions[s])) s++;
            splitOfCluster[c] = s;
        }
        return clusterOf.Select(c => splitOfCluster[c]).ToArray();
    }
}
