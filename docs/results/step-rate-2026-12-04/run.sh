#!/bin/bash
# Steps a second of StackedMNIST's default recipe under two versions of ganforge, each run
# alone at two threads on the config its committed 10-minute cell of seed 0 trained with
# (1,300 generator steps, no evaluation, no samples), to tell the machine's speed on the day
# from the code's. Usage, from the repository root (the old tree is a git worktree):
#   git worktree add /tmp/old 0df930a
#   bash docs/results/step-rate-2026-12-04/run.sh /tmp/old/src
# It writes old.yaml/new.yaml and run folders under /tmp/step-rate and prints one line a tree.
set -e
OLD_SRC=${1:?usage: run.sh OLD_TREE_SRC}
W=/tmp/step-rate; mkdir -p $W
python - "$W" <<'PY'
import json, sys, yaml
w = sys.argv[1]
cells = {"old": "docs/results/quality/cells/stackedmnist/r3gan-mlp-stacked-warm-bncopy/seed0.json",
         "new": "docs/results/quality/cells/stackedmnist/r3gan-mlp-stacked-warm/seed0.json"}
for tag, f in cells.items():
    c = json.load(open(f))["config_used"]
    c["train"].update(iters=1300, max_seconds=None, threads=2, sample_every=10**9, ckpt_every=10**9)
    c["eval"].update(every=0, every_seconds=None)
    c["out"] = f"{w}/run_{tag}"
    yaml.safe_dump(c, open(f"{w}/{tag}.yaml", "w"))
PY
for tag in old new; do
  rm -rf $W/run_$tag
  if [ $tag = old ]; then P=$OLD_SRC; else P=$PWD/src; fi
  (cd $W && PYTHONPATH=$P python -m ganforge train --config $W/$tag.yaml --quiet)
  python - "$W" "$tag" <<'PY'
import json, sys
w, tag = sys.argv[1:]
t = {r["step"]: r["time"] for r in map(json.loads, open(f"{w}/run_{tag}/metrics.jsonl")) if "time" in r}
rate = lambda a, b: (b - a) / (t[b] - t[a])
print(f"{tag}: steps/s over steps 100-1000 {rate(100, 1000):.2f}, over 1000-1290 {rate(1000, 1290):.2f}", flush=True)
PY
done
