#!/usr/bin/env bash
# The image issue's equal-steps cells on a lent GPU, in one device call.
#
# Every (budget, config, seed) cell of benchmarks/quality.py runs as its own process at one
# CPU thread: the 28-32 px networks leave an H200 mostly idle, so a dozen cells share the
# card and its 16 cores, and the batch of cells takes about as long as its slowest cell.
# Budgets run one after the other (all 5,000-step cells, then all 10,000-step cells), so a
# call cut short by its limit still brings back every cell of the earlier budgets. The
# tutorial's loop (benchmarks/tutorial_dcgan.py) trains on the GPU too. What comes back is
# one archive (the device tool returns at most 8 files) and the log:
#   $OUT/gpu_cells.tar.gz   quality/cells-stepsN/mnist/CONFIG/seedS.json, the pictures, the pages
#   $OUT/log.txt
# Unpack it into docs/results/gpu/ and rewrite the pages there with
#   python benchmarks/quality.py --report-only --budget stepsN --out docs/results/gpu --no-notes
#
# The device machine sees the checkout only: copy the MNIST files into an ignored folder
# and carry it, e.g.
#   mkdir -p bench_runs/gpu_mnist && cp ../shared/data/mnist/*.gz bench_runs/gpu_mnist/
#   run(command="bash benchmarks/gpu_image_cells.sh", carry=["bench_runs/gpu_mnist"], timeout_s=580)
# A dry run on the CPU with tiny budgets first:
#   OUT=/tmp/g BUDGETS=steps24 SEEDS=0 bash benchmarks/gpu_image_cells.sh
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:?set OUT to the folder the results go to}
MNIST=${MNIST:-bench_runs/gpu_mnist}
BUDGETS=${BUDGETS:-"steps5000 steps10000"}
CONFIGS=${CONFIGS:-"tutorial-dcgan-pg dcgan-upconv-bn-after r3gan-upconv r3gan-resnet"}
SEEDS=${SEEDS:-"0 1 2"}
PY=${PY:-python3}
WORK=${WORK:-bench_runs/gpu_cells}

mkdir -p "$OUT" "$WORK"
LOG="$OUT/log.txt"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
{
  echo "gpu_image_cells: $(date -u +%FT%TZ)"
  "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"
  echo "cores: $(nproc --all)"
} >>"$LOG" 2>&1

pack() {  # after every budget: what is done so far comes back even if the call is cut
  tar czf "$OUT/gpu_cells.tar.gz.part" -C "$WORK" quality $(cd "$WORK" && ls quality*.md 2>/dev/null) 2>>"$LOG" \
    && mv "$OUT/gpu_cells.tar.gz.part" "$OUT/gpu_cells.tar.gz"
}

for budget in $BUDGETS; do
  pids=()
  for config in $CONFIGS; do
    for seed in $SEEDS; do
      "$PY" benchmarks/quality.py --mnist "$MNIST" --tasks mnist --configs "$config" --seeds "$seed" \
        --budget "$budget" --out "$WORK" >>"$LOG.$budget.$config.$seed" 2>&1 &
      pids+=($!)
    done
  done
  failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  for f in "$LOG.$budget".*; do echo "== ${f#$LOG.}" >>"$LOG"; tail -n 5 "$f" >>"$LOG"; rm -f "$f"; done
  "$PY" benchmarks/quality.py --report-only --budget "$budget" --out "$WORK" --no-notes >>"$LOG" 2>&1
  echo "$budget: ${#pids[@]} cells, $failed failed, $(date -u +%T)" | tee -a "$LOG"
  pack
done
