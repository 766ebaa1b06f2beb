"""Replay the health monitor's per-record checks over finished runs' metrics.jsonl.

    python benchmarks/health_replay.py RUN_DIR [RUN_DIR ...]

Prints, per run, the warnings the record checks give (divergence, exploding critic,
Wasserstein runaway, critic lost) with their steps: how a change to a check is tried on
runs that already exist (docs/recipe.md, "Critic lost"). The loss comes from the run's
config.yaml, as the health callback takes it."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from ganforge.errors import GanforgeError
from ganforge.objectives import LOSSES
from ganforge.train.health import HealthMonitor


def replay(run: Path) -> list[tuple[int, str]]:
    """The (step, warning) pairs of one run's records, in order."""
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    m = HealthMonitor()
    m.set_loss(LOSSES.get(cfg["loss"]["name"]).wasserstein)
    out: list[tuple[int, str]] = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if "loss_d" in rec:  # a training record (evaluations and warnings are other lines)
            out += [(rec["step"], w) for w in m.check_record(rec)]
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    for d in map(Path, argv):
        if not (d / "metrics.jsonl").is_file() or not (d / "config.yaml").is_file():
            print(f"{d}: not a run folder (no metrics.jsonl and config.yaml)", file=sys.stderr)
            return 2
        try:
            warns = replay(d)
        except (ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError, GanforgeError) as e:
            # a damaged record or config, or a loss this version does not know: one line, not a traceback
            print(f"{d}: cannot replay: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
            return 2
        print(f"{d}: " + ("; ".join(f"step {s}: {w}" for s, w in warns) if warns else "no warnings"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
