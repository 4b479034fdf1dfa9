# mean ± sd (n − 1) per model of "DIR map=… p1=… …" lines, DIR named …/rec-<model>-s<seed>
{
    m = $1; sub(/^(.*\/)?rec-/, "", m); sub(/-s[0-9]+$/, "", m); models[m] = 1
    for (i = 2; i <= NF; i++) { split($i, kv, "="); key[i] = kv[1]; s[m, i] += kv[2]; q[m, i] += kv[2] ^ 2; n[m, i]++ }
    fields = NF
}
END {
    for (m in models) {
        line = m
        for (i = 2; i <= fields; i++) {
            c = n[m, i]; mean = s[m, i] / c; sd = c > 1 ? sqrt((q[m, i] - c * mean ^ 2) / (c - 1)) : 0
            line = line sprintf(" %s=%.4f±%.4f", key[i], mean, sd)
        }
        print line " (seeds: " c ")"
    }
}
