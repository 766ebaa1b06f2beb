#!/usr/bin/env bash
# Does running two quality-suite seeds side by side at one thread each make more steps per
# second in total than one seed at a time on all threads? Planning aid for long CPU cells
# (the residual recipe takes ~100 min a seed on a 2-core CPU). Nothing else may run meanwhile.
# Usage: MNIST=../shared/data/mnist CONFIG=r3gan-b256-g1-resnet SET=model.width=16 \
#        bash benchmarks/cpu_parallel_seeds.sh OUTDIR
# (those are the defaults; SET= with nothing after it trains the config without an override)
set -euo pipefail
out=${1:?usage: cpu_parallel_seeds.sh OUTDIR}
mnist=${MNIST:-../shared/data/mnist}
config=${CONFIG:-r3gan-b256-g1-resnet}
override=${SET-model.width=16}
set_arg=()
if [ -n "$override" ]; then set_arg=(--set "$override"); fi
mkdir -p "$out"
step() {  # $1: threads, $2: tag
  OMP_NUM_THREADS=$1 MKL_NUM_THREADS=$1 python benchmarks/gpu_conv_step.py --mnist "$mnist" \
    --configs "$config" --steps 3 --profile 0 "${set_arg[@]}" --out "$out/$2.md" >"$out/$2.log" 2>&1
}
step "$(nproc)" alone
step 1 pair_a & a=$!
step 1 pair_b & b=$!
wait $a $b
python - "$out" <<'PY'
import sys, pathlib
out = pathlib.Path(sys.argv[1])
def rate(tag):
    # the one table row of gpu_conv_step.py's page: | config | model | batch | G steps/s | ...
    row = [r for r in (out / f"{tag}.md").read_text().splitlines() if r.startswith("| ") and "---" not in r][1]
    return float(row.split("|")[4])
alone, a, b = rate("alone"), rate("pair_a"), rate("pair_b")
print(f"one process, all threads: {alone:.3g} steps/s")
print(f"two processes, one thread each: {a:.3g} + {b:.3g} = {a + b:.3g} steps/s ({(a + b) / alone:.2f}x)")
PY
