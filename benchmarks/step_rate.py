#!/usr/bin/env python3
"""Generator steps a second of quality-suite configs on one task, side by side, as ratios.

A time-budget cell's quality depends on how many steps its config makes in the budget, so a
config that is cheaper per step can win there while being level step for step. This trains
each config as its quality cell would (``quality.task_config``: the same data, recipe and
settings) for ``--steps`` generator steps with no evaluation, no samples and no checkpoints,
and reads its rate from the run's own log between step ``--skip`` and the end. Rounds
alternate the configs (A B A B ...) so that drift in the machine's speed hits all alike; the
table gives each config's median rate over rounds and its ratio to the first config's median
(the ratio of medians; per-round ratios in brackets, min-max). Run it alone: another torch
process on these cores changes the rates several-fold.

    python benchmarks/step_rate.py --mnist ../shared/data/mnist --task stackedmnist \\
        --configs r3gan-mlp-stacked-warm,r3gan-mlp-stacked-warm-lazy4 --steps 600 --rounds 3
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import task_config  # noqa: E402
from quality_tasks import CONFIGS, MNIST_FILES, TASKS, TUTORIALS  # noqa: E402
from study import machine_name  # noqa: E402
from ganforge import api  # noqa: E402
from ganforge.train.rundir import iter_metrics  # noqa: E402


def fail(msg: str) -> NoReturn:
    """A user mistake: one line on stderr, exit 2."""
    print(f"step_rate: {msg}", file=sys.stderr)
    raise SystemExit(2)


def rate_of(log: Path, skip: int) -> float:
    """Steps a second between step ``skip`` and the last logged step, from a run's log."""
    t = {r["step"]: r["time"] for r in iter_metrics(log) if "time" in r and "step" in r}
    first = min((s for s in t if s >= skip), default=None)
    last = max(t, default=None)
    if first is None or last is None or last <= first:
        raise RuntimeError(f"{log}: no two logged steps at or after step {skip}")
    return (last - first) / (t[last] - t[first])


def one_run(task: str, config: str, a: argparse.Namespace, work: Path, tag: str) -> float:
    """Train ``config`` as its time-budget cell would, for ``a.steps`` steps; its steps/s."""
    run_dir = work / f"{config}_{tag}"
    shutil.rmtree(run_dir, ignore_errors=True)
    cfg = task_config(task, config, a.seed, "time", a.mnist, run_dir)
    # a Config is taken as it is (a dict would go over the data's recipe again)
    cfg.apply_overrides([f"train.iters={a.steps}", "train.max_seconds=null", f"train.threads={a.threads}",
                         f"train.log_every={a.log_every}", "eval.every=0", "eval.every_seconds=null"])
    api.train(config=cfg, log=lambda _: None)
    return rate_of(run_dir / "metrics.jsonl", a.skip)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--task", default="stackedmnist")
    p.add_argument("--configs", required=True, help="comma-separated quality configs; the first is the baseline")
    p.add_argument("--mnist", type=Path, default=None)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--skip", type=int, default=100, help="steps left out of the rate at the start (warm-up)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="also write the table here (Markdown)")
    a = p.parse_args(argv)
    configs = [c.strip() for c in a.configs.split(",") if c.strip()]
    if a.task not in TASKS:
        fail(f"unknown task {a.task!r}; choose one of: {', '.join(TASKS)}")
    for c in configs:
        if c not in CONFIGS or c in TUTORIALS:
            fail(f"unknown ganforge config {c!r} (benchmarks/quality_tasks.py CONFIGS, tutorials excluded)")
    if a.steps <= a.skip + a.log_every or a.rounds < 1 or a.threads < 1:
        fail("need --steps > --skip + --log-every, --rounds >= 1 and --threads >= 1")
    if a.mnist is not None and not a.mnist.is_dir():
        fail(f"--mnist: no such folder {a.mnist}")
    if a.task in MNIST_FILES and a.mnist is None:
        fail(f"the {a.task} task needs --mnist DIR (the MNIST files)")
    rates: dict[str, list[float]] = {c: [] for c in configs}
    with tempfile.TemporaryDirectory(prefix="step_rate_") as tmp:
        for r in range(a.rounds):
            for c in configs:
                rates[c].append(one_run(a.task, c, a, Path(tmp), f"r{r}"))
                print(f"round {r + 1}/{a.rounds} {c}: {rates[c][-1]:.2f} steps/s", flush=True)
    base = statistics.median(rates[configs[0]])
    lines = [f"Command: `python benchmarks/step_rate.py {' '.join(argv if argv is not None else sys.argv[1:])}`. Machine: {machine_name()}, "
             f"{time.strftime('%Y-%m-%d')}; {a.threads} threads; rate over steps {a.skip}-{a.steps}.", "",
             "| config | steps/s, median [min-max] over rounds | ratio to the first (per round) |", "|---|---|---|"]
    for c in configs:
        per = [x / b for x, b in zip(rates[c], rates[configs[0]])]
        lines.append(f"| {c} | {statistics.median(rates[c]):.2f} [{min(rates[c]):.2f}-{max(rates[c]):.2f}] | "
                     f"**{statistics.median(rates[c]) / base:.2f}x** [{min(per):.2f}-{max(per):.2f}] |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
