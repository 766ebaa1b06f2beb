#!/usr/bin/env bash
# The image issue's equal-steps cells on a lent GPU, in one device call.
#
# Every (budget, config, seed) cell of benchmarks/quality.py runs as its own process at one
# CPU thread: the 28-32 px networks leave an H200 mostly idle, so a dozen cells share the
# card and its 16 cores. Two phases, one after the other, inside one deadline:
#   1. every CONFIGS x SEEDS cell at the first budget (5,000 generator steps);
#   2. at the second budget (10,000), the tutorial, MNIST's default and the conv config with
#      the lowest median FID in phase 1, but only if phase 1's walls say they end in time
#      (a 10,000-step cell is predicted to take twice its config's slowest 5,000-step cell).
# Every cell is stopped DEADLINE seconds after the start, so the packing always runs; a
# stopped cell leaves no cell record, but its curve (eval records in metrics.jsonl, every
# 1/12 of the budget) comes back in the archive. What comes back (the device tool returns
# at most 8 files):
#   $OUT/gpu_cells.tar.gz   gpu_cells/quality/cells-stepsN/TASK/CONFIG/seedS.json, pictures,
#                           pages; runs/stepsN/TASK/CONFIG/seedS/{metrics.jsonl,run.json};
#                           logs/ (each cell's output: the tutorial's curve is only there)
#   $OUT/log.txt
# Unpack it and rewrite the pages in docs/results/gpu/ with
#   python benchmarks/quality.py --report-only --budget stepsN --out docs/results/gpu --no-notes --made-by benchmarks/gpu_image_cells.sh
#
# The device machine sees the checkout only: copy the MNIST files into an ignored folder
# and carry it, e.g.
#   mkdir -p bench_runs/gpu_mnist && cp ../shared/data/mnist/*.gz bench_runs/gpu_mnist/
#   run(command="DEADLINE=540 bash benchmarks/gpu_image_cells.sh", carry=["bench_runs/gpu_mnist"], timeout_s=590)
# A timed budget (BUDGETS=time180: 180 s of training clock a cell, page quality-time180.md) is
# the card's minutes, not the CPU's 10: its cells share the card like the others, so compare
# only configs that ran in the same phase with the same number of cells each (e.g.
# BUDGETS=time180 CONFIGS="r3gan-mlp-b256-g1 r3gan-b256-g1-resnet-bf16" SEEDS=0), and give it
# no second budget (phase 2 sizes step budgets only).
# A dry run on the CPU with tiny budgets first:
#   OUT=/tmp/g BUDGETS="steps24 steps48" SEEDS=0 DEADLINE=900 bash benchmarks/gpu_image_cells.sh
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:?set OUT to the folder the results go to}
MNIST=${MNIST:-bench_runs/gpu_mnist}
TASK=${TASK:-mnist}  # a quality-suite task built from the MNIST files: mnist or stackedmnist
BUDGETS=${BUDGETS:-"steps5000 steps10000"}
read -r FIRST SECOND <<<"$BUDGETS"
if [[ -n "${SECOND:-}" && ( $FIRST == time* || $SECOND == time* ) ]]; then
  echo "gpu_image_cells: a timed budget runs alone (BUDGETS=timeN), got BUDGETS=\"$BUDGETS\"" >&2
  exit 2
fi
# Sizing a call (H200, 2026-12-04, docs/results/gpu/): with 12 cells at once, 5,000 steps took
# 120 s for the MLP default, 160 s for dcgan-upconv-bn-after and 233 s for the tutorial's
# loop; with 20 cells at once (no resnet among them) 290 s, 330 s with augmentation, and 374 s
# for the tutorial. r3gan-b256-g1-resnet in fp32 reached only about 1,530 steps in 500 s among
# 12 cells (alone it makes 14.7 steps/s); r3gan-b256-g1-resnet-bf16 alone makes 23.7 steps/s
# and ran 5,000 steps in 216 s. No 10,000-step phase fits after a full first phase in a
# 15-minute lease: run it as its own call (BUDGETS=steps10000 CONFIGS="tutorial-dcgan-pg
# r3gan-mlp-b256-g1"), and give the resnet calls of its own
# (BUDGETS=steps5000 CONFIGS=r3gan-b256-g1-resnet-bf16 SEEDS="1 2"). StackedMNIST's residual
# candidates take the same MNIST files (TASK=stackedmnist BUDGETS=steps5000
# CONFIGS="r3gan-resnet-stacked r3gan-resnet-stacked-warm" SEEDS=0): two residual cells share
# the card, so each runs at about half of 23.7 steps/s, and the final count of 26,000 samples
# comes on top (dry-run on the CPU at 6 steps, 2026-12-04: both configs ran and packed).
# r3gan-b256-g1-upconv is left out by default: its step costs an H200 about as much as the
# resnet's (135 against 106 GFLOP for G and D forward and backward at batch 256) with a
# critic of 0.02M parameters, and a 15-minute lease has room for one such candidate
CONFIGS=${CONFIGS:-"tutorial-dcgan-pg r3gan-mlp-b256-g1 dcgan-upconv-bn-after r3gan-b256-g1-resnet-bf16"}
ALWAYS=${ALWAYS:-"tutorial-dcgan-pg r3gan-mlp-b256-g1"}  # phase 2's fixed rows: the baseline and the default
SEEDS=${SEEDS:-"0 1 2"}
DEADLINE=${DEADLINE:-540}  # seconds after the start when every cell is stopped and the results packed
PY=${PY:-python3}
WORK=${WORK:-bench_runs/gpu_cells}
RUNS=bench_runs/quality  # where quality.py keeps each cell's run folder

START=$(date +%s)
left() { echo $((DEADLINE - ($(date +%s) - START))); }
mkdir -p "$OUT" "$WORK"
WORK=$(cd "$WORK" && pwd)  # absolute from here on: pack() copies into it from inside $RUNS
LOG="$OUT/log.txt"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
{
  echo "gpu_image_cells: $(date -u +%FT%TZ), deadline ${DEADLINE}s"
  "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"
  echo "cores: $(nproc --all)"
} >>"$LOG" 2>&1

pack() {  # after every phase and at the deadline: what is done so far comes back
  rm -rf "$WORK/runs" && mkdir -p "$WORK/runs"
  (cd "$RUNS" 2>/dev/null && find . -path "*/$TASK/*/seed*/*" \( -name metrics.jsonl -o -name run.json \) -print0 \
    | xargs -0 -r cp --parents -t "$WORK/runs") 2>>"$LOG"
  tar czf "$OUT/gpu_cells.tar.gz.part" -C "$(dirname "$WORK")" "$(basename "$WORK")" 2>>"$LOG" \
    && mv "$OUT/gpu_cells.tar.gz.part" "$OUT/gpu_cells.tar.gz"
}

phase() {  # phase BUDGET CONFIG...: every config x seed at BUDGET in parallel, stopped at the deadline
  local budget=$1; shift
  local pids=() t0 failed=0
  t0=$(date +%s)
  for config in "$@"; do
    for seed in $SEEDS; do
      timeout -s INT -k 15 "$(( $(left) > 26 ? $(left) - 25 : 1 ))" "$PY" benchmarks/quality.py --mnist "$MNIST" --tasks "$TASK" \
        --configs "$config" --seeds "$seed" --budget "$budget" --out "$WORK" >>"$LOG.$budget.$config.$seed" 2>&1 &
      pids+=($!)
    done
  done
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  mkdir -p "$WORK/logs"
  for f in "$LOG.$budget".*; do echo "== ${f#$LOG.}" >>"$LOG"; tail -n 4 "$f" >>"$LOG"; mv "$f" "$WORK/logs/"; done
  "$PY" benchmarks/quality.py --report-only --budget "$budget" --out "$WORK" --no-notes --made-by benchmarks/gpu_image_cells.sh >>"$LOG" 2>&1
  echo "$budget: ${#pids[@]} cells, $failed failed or stopped, $(( $(date +%s) - t0 )) s, $(date -u +%T)" | tee -a "$LOG"
  pack
}

phase "$FIRST" $CONFIGS
[ -n "${SECOND:-}" ] || exit 0

# phase 2's configs: the fixed rows and the best conv config of phase 1, each predicted to
# take twice its slowest first-budget wall; the most that fits in the time left, in that order
CHOSEN=$("$PY" - "$WORK/quality/cells-$FIRST/$TASK" "$(left)" "$ALWAYS" "$CONFIGS" "$FIRST" "$SECOND" <<'EOF'
import json, statistics, sys
from pathlib import Path
cells, left, always, configs, first, second = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split(), sys.argv[5], sys.argv[6]
ratio = int(second[5:]) / int(first[5:])
by = {}
for f in cells.glob("*/seed*.json"):
    c = json.loads(f.read_text())
    if c.get("status") == "finished" and "fid" in c["final"]:
        by.setdefault(c["config"], []).append(c)
conv = [k for k in configs if k not in always and k in by]
best = min(conv, key=lambda k: statistics.median(c["final"]["fid"] for c in by[k]), default=None)
want = [k for k in always if k in by] + ([best] if best else [])
pick = [k for k in want if ratio * max(c["wall_seconds"] for c in by[k]) < left - 40]
print(" ".join(pick))
EOF
)
echo "phase 2 ($SECOND, $(left) s left): ${CHOSEN:-nothing fits}" | tee -a "$LOG"
[ -n "$CHOSEN" ] && phase "$SECOND" $CHOSEN
exit 0
