#!/usr/bin/env bash
# CosRec vs SCosRec on MovieLens-100K (docs/results/recommendation.md): 3 seeds each, the same budget.
# usage: reproduce.sh U_DATA_GZ RUNS_DIR            (env: SEEDS="1 2 3", EPOCHS=30, EXTRA="…" more rec train options)
# Running it again resumes whatever was interrupted; finished runs are left as they are.
set -euo pipefail
data=$(realpath "$1"); runs=$2
seeds=${SEEDS:-1 2 3}; epochs=${EPOCHS:-30}
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../../.." && pwd)
mkdir -p "$runs"
[ -f "$runs/bin/EquiSharp.Cli.dll" ] || dotnet publish "$repo/src/EquiSharp.Cli" -c Release -o "$runs/bin" > "$runs/publish.log"
cli() { dotnet "$runs/bin/EquiSharp.Cli.dll" "$@"; }
for seed in $seeds; do
  for model in cosrec scosrec; do
    dir="$runs/rec-$model-s$seed"
    if [ -f "$dir/run.json" ]; then set -- --resume "$dir"
    else set -- --data "$data" --format ml100k --model "$model" --seed "$seed" --epochs "$epochs" --out "$dir" ${EXTRA:-}; fi
    /usr/bin/time -f "%e s wall, %U s user, %S s sys" -a -o "$dir.time" dotnet "$runs/bin/EquiSharp.Cli.dll" rec train "$@" >> "$dir.log" 2>&1
    tail -1 "$dir.log"
  done
done
for seed in $seeds; do for model in cosrec scosrec; do
  echo "$runs/rec-$model-s$seed $(cli rec eval --model "$runs/rec-$model-s$seed" | tail -1)"
done; done | tee "$runs/test-metrics.txt"
awk -f "$here/summarise.awk" "$runs/test-metrics.txt" | sort | tee "$runs/test-summary.txt"
