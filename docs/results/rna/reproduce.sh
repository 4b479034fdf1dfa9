#!/bin/bash
# Reproduces docs/results/rna.md from a checkout of the repository: SCNN vs CNN on 16S rRNA (500 steps per run),
# the same runs extended to 1,000 steps, 500 short RNAs never trained on, the curves figures, and the 3000-nt
# full-length inference measurement. Every stage resumes what an earlier (interrupted) call left: run it again.
#
# Usage: docs/results/rna/reproduce.sh DATA RUNS [STAGE ...]
#   DATA   folder holding rna/16s-finaltrain.txt.gz, rna/16s-finalvalid.txt.gz, rna-short/bpRNA-NF-15.0.csv.gz
#   RUNS   output folder (run directories, logs, figures, the published binary)
#   STAGE  any of: train (seeds 1 2 3, 500 steps), extend (seeds 1 2 to 1,000 steps), curves, inference;
#          default: all four in that order. SEEDS / EXTEND_SEEDS override the seeds, e.g. SEEDS="1" ... train.
# Long: each 500-step run of the paper model takes 15-70 min on 2 CPU cores; run it with nohup.
set -u
if [ $# -lt 2 ]; then sed -n 2,12p "$0"; exit 2; fi
DATA=$(realpath "$1"); RUNS=$(mkdir -p "$2" && realpath "$2"); shift 2
STAGES=${*:-train extend curves inference}
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
SEEDS=${SEEDS:-1 2 3}
EXTEND_SEEDS=${EXTEND_SEEDS:-1 2}
TRAIN=$DATA/rna/16s-finaltrain.txt.gz
VALID=$DATA/rna/16s-finalvalid.txt.gz
SHORT=$DATA/rna-short/bpRNA-NF-15.0.csv.gz

# one binary for the whole series (a rebuild in the checkout does not change a run half-way)
if [ ! -f "$RUNS/bin/EquiSharp.Cli.dll" ]; then dotnet publish "$REPO/src/EquiSharp.Cli" -c Release -o "$RUNS/bin" > "$RUNS/publish.log" || exit 1; fi
equisharp() { dotnet "$RUNS/bin/EquiSharp.Cli.dll" "$@"; }
log() { echo "=== $(date -u +%FT%TZ) $*" | tee -a "$RUNS/reproduce.log"; }

# Scores a finished run on the first 500 short RNAs, once.
score_short() { # OUT
  local out=$1
  if [ ! -f "$out/short-500.txt" ]; then
    equisharp rna eval --model "$out" --data "$SHORT" --limit 500 > "$out/short-500.tmp" 2>&1 && mv "$out/short-500.tmp" "$out/short-500.txt"
  fi
}

for stage in $STAGES; do
  case $stage in
  train) # 10 epochs x 50 steps; the CNN of a seed is selected on the SCNN's dev records (--dev-split)
    for s in $SEEDS; do for m in scnn cnn; do
      log "train $m seed $s"
      split=(); [ $m = cnn ] && split=(--dev-split "$RUNS/rna-scnn-s$s/dev-split.json")
      out=$RUNS/rna-$m-s$s
      if [ -f "$out/run.json" ]; then equisharp rna train --resume "$out" >> "$out.log" 2>&1   # an interrupted run continues
      else equisharp rna train --out "$out" --train "$TRAIN" --valid "$VALID" --model $m --seed $s \
             --epochs 10 --crop 128 --batch 10 --patience 10 "${split[@]}" >> "$out.log" 2>&1; fi \
        && score_short "$out" || log "failed: $m seed $s (see $out.log)"
    done; done ;;
  extend) # copies of the 500-step runs continued to 20 epochs (1,000 steps), so the 500-step results stay
    for s in $EXTEND_SEEDS; do for m in scnn cnn; do
      src=$RUNS/rna-$m-s$s; out=$src-e20
      if [ ! -d "$out" ]; then mkdir -p "$out" && cp -r "$src"/{run.json,model.json,dev-split.json,checkpoint,best} "$out"/ || exit 1; fi
      log "extend $m seed $s to 20 epochs"
      equisharp rna train --resume "$out" --epochs 20 >> "$out.log" 2>&1 && score_short "$out" || log "failed: extend $m seed $s (see $out.log)"
    done; done ;;
  curves)
    mkdir -p "$RUNS/figures"
    runs500=(); labels500=()
    for s in $SEEDS; do for m in scnn cnn; do runs500+=("$RUNS/rna-$m-s$s"); labels500+=(--label "${m^^} seed $s"); done; done
    equisharp curves "${runs500[@]}" "${labels500[@]}" --metric acc --out "$RUNS/figures/dev-acc-500-steps.png"
    runs1000=(); labels1000=()
    for s in $EXTEND_SEEDS; do for m in scnn cnn; do runs1000+=("$RUNS/rna-$m-s$s-e20"); labels1000+=(--label "${m^^} seed $s"); done; done
    for metric in f1 acc train-loss; do
      name=dev-$metric; [ $metric = train-loss ] && name=train-loss
      equisharp curves "${runs1000[@]}" "${labels1000[@]}" --metric $metric --out "$RUNS/figures/$name-1000-steps.png"
    done ;;
  inference) # full-length tiled inference on one 3000-nt random sequence (weights of a 1-step run; the cost does not depend on them)
    dir=$RUNS/rna-3000; mkdir -p "$dir"
    python3 -c 'import random; random.seed(3000); s="".join(random.choice("ACGU") for _ in range(3000)); print(">random3000\n"+s+"\n"+"."*3000)' > "$dir/random3000.fa"
    for m in scnn cnn; do
      [ -f "$dir/paper-$m/model.json" ] || equisharp rna train --train "$VALID" --model $m --out "$dir/paper-$m" --max-steps 1 --dev-max-length 16 --batch 4 > "$dir/paper-$m.log" 2>&1
      log "inference $m, 3000 nt"
      /usr/bin/time -v dotnet "$RUNS/bin/EquiSharp.Cli.dll" rna eval --model "$dir/paper-$m" --data "$dir/random3000.fa" > "$dir/eval-$m.txt" 2>&1
      grep -E "Elapsed|User time|Maximum resident" "$dir/eval-$m.txt"
    done ;;
  *) echo "unknown stage: $stage (expected train, extend, curves or inference)" >&2; exit 2 ;;
  esac
done
log "done: $STAGES"
