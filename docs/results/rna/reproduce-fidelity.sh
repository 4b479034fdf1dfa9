#!/bin/bash
# Issue 17 rerun: SCNN vs CNN on 16S rRNA with the four fidelity fixes — the CNN's batch-norm statistics over its
# supervised (upper) triangle, the initialisation and output bias chosen by the dev probes in docs/results/rna.md, a
# crop curriculum up to 512 nt, and selection on random 512-nt dev windows — 3 seeds x 2 models, the same budget each,
# one after another, THREADS torch threads each (default one). Every run ends with its full-length report on 16s-finalvalid
# (valid-report.txt: per-sequence and mean PPV, sensitivity, accuracy, F1, MCC). Run it again to continue: a run
# directory that exists is resumed (--resume) from its last checkpoint, a finished one is skipped.
#
# Usage: docs/results/rna/reproduce-fidelity.sh DATA RUNS [STAGE ...]
#   DATA   folder holding rna/16s-finaltrain.txt.gz and rna/16s-finalvalid.txt.gz
#   RUNS   output folder (run directories fid-<model>-s<seed>, logs, figures, the published binary)
#   STAGE  train and/or curves (default: both). SEEDS="1" ... overrides the seeds; EPOCHS, BATCH, SCHEDULE, DEVLEN, INIT, BIAS
#          the budget and the settings (defaults below; change them only for a new series in a new RUNS folder);
#          THREADS the torch threads per run (default 1; a run was reproduced bit for bit at the same count on the same host type).
#          The series run here (docs/results/rna.md): BATCH=4 EPOCHS=16 SCHEDULE=128:0,256:1000 DEVLEN=256, first with
#          one thread (host A), then again with THREADS=2 (one host type, every run's curves).
#          The 17-epoch extension: equisharp rna train --resume DIR --epochs 17 on a copy of each run directory.
# Long: about 7 CPU-hours per SCNN run and 12 per CNN run, 57 in all (estimate in docs/results/rna.md); a CNN step
# at 512 nt peaks near 12 GiB of memory. Run it with nohup.
set -u
if [ $# -lt 2 ]; then sed -n 2,19p "$0"; exit 2; fi
DATA=$(realpath "$1"); RUNS=$(mkdir -p "$2" && realpath "$2"); shift 2
STAGES=${*:-train curves}
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
SEEDS=${SEEDS:-1 2 3}
EPOCHS=${EPOCHS:-40}                          # 50 steps per epoch (495 training records, batch 10): 2,000 steps
BATCH=${BATCH:-10}
DEVLEN=${DEVLEN:-512}                         # random dev windows of this length select the epoch
SCHEDULE=${SCHEDULE:-128:0,256:800,512:1400}  # crop by optimizer step
INIT=${INIT:-authors}
BIAS=${BIAS:-base-rate}
THREADS=${THREADS:-1}
TRAIN=$DATA/rna/16s-finaltrain.txt.gz
VALID=$DATA/rna/16s-finalvalid.txt.gz

# one binary for the whole series (a rebuild in the checkout does not change a run half-way)
if [ ! -f "$RUNS/bin/EquiSharp.Cli.dll" ]; then dotnet publish "$REPO/src/EquiSharp.Cli" -c Release -o "$RUNS/bin" > "$RUNS/publish.log" || exit 1; fi
equisharp() { dotnet "$RUNS/bin/EquiSharp.Cli.dll" "$@"; }
log() { echo "=== $(date -u +%FT%TZ) $*" | tee -a "$RUNS/reproduce-fidelity.log"; }

for stage in $STAGES; do
  case $stage in
  train) # --epochs, not --max-steps: a step cap cuts its last epoch short, and a later, longer cap would not resume it exactly
    for s in $SEEDS; do for m in scnn cnn; do
      out=$RUNS/fid-$m-s$s
      maps=dense; [ $m = scnn ] && maps=packed
      split=(); [ $m = cnn ] && split=(--dev-split "$RUNS/fid-scnn-s$s/dev-split.json")   # both models select on the same dev records
      log "train $m seed $s"
      if [ -f "$out/run.json" ]; then equisharp rna train --resume "$out" --threads "$THREADS" >> "$out.log" 2>&1
      else equisharp rna train --out "$out" --train "$TRAIN" --valid "$VALID" --model $m --seed $s --maps $maps "${split[@]}" \
             --epochs "$EPOCHS" --batch "$BATCH" --lr 2e-3 --l2 0 --pos-weight 5 --patience 0 --crop-schedule "$SCHEDULE" \
             --dev-window random --dev-max-length "$DEVLEN" --cnn-norm-stats upper --init "$INIT" --output-bias "$BIAS" \
             --threads "$THREADS" >> "$out.log" 2>&1; fi \
        || log "failed: $m seed $s (see $out.log)"
    done; done ;;
  curves)
    mkdir -p "$RUNS/figures"
    runs=(); labels=()
    for s in $SEEDS; do for m in scnn cnn; do
      [ -f "$RUNS/fid-$m-s$s/checkpoint/state.json" ] && { runs+=("$RUNS/fid-$m-s$s"); labels+=(--label "${m^^} seed $s"); }
    done; done
    [ ${#runs[@]} -gt 0 ] || { log "curves: no runs yet"; continue; }
    for metric in acc f1 mcc train-loss; do
      name=dev-$metric; [ $metric = train-loss ] && name=train-loss
      equisharp curves "${runs[@]}" "${labels[@]}" --metric $metric --out "$RUNS/figures/fidelity-$name.png"
    done ;;
  *) echo "unknown stage: $stage (expected train or curves)" >&2; exit 2 ;;
  esac
done
log "done: $STAGES"
