#!/usr/bin/env python3
"""Training speed on a quiet and on a shared CPU: the default thread choice (auto) against
fixed thread counts, all in one run.

    python benchmarks/shared_cpu.py [--iters 600] [--repeats 2]

Each cell is `ganforge train` (the README's first command: digits MLP, default config) in
a fresh process, with --threads auto (the default), 1, or all cores, under three loads:
  quiet    nothing else running
  spinner  one other process holding one core busy (a pure-Python loop)
  torch    one other torch training (the same default run, 2 threads fixed) beside it
Reported: generator steps/s on the training clock (the run's own it/s), the median of the
repeats, and each setting's ratio to the best fixed setting under the same load. Run it
on an otherwise idle machine: the point is to control the load.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SPIN = "while True: pass"


def train_its(threads: str, iters: int, workdir: Path) -> float:
    """Steps/s of one default `ganforge train` run with ``--threads`` (auto: flag left out)."""
    out = workdir / f"run-{time.time_ns()}"
    args = [sys.executable, "-m", "ganforge", "train", "--iters", str(iters), "--out", str(out), "--quiet",
            "--set", "train.tensorboard=false", "--sample-every", str(iters), "--ckpt-every", str(iters)]
    if threads != "auto":
        args += ["--threads", threads]
    p = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise SystemExit(f"training failed: {p.stderr[-2000:]}")
    m = re.search(r"\(([\d.]+) it/s\)", p.stdout)
    if not m:
        raise SystemExit(f"no it/s in output: {p.stdout}")
    return float(m.group(1))


def start_load(kind: str, workdir: Path):
    if kind == "quiet":
        return None
    if kind == "spinner":
        return subprocess.Popen([sys.executable, "-c", SPIN])
    # another torch training, long enough to outlast the measured run
    return subprocess.Popen([sys.executable, "-m", "ganforge", "train", "--iters", "1000000", "--threads", "2",
                             "--out", str(workdir / f"load-{time.time_ns()}"), "--quiet",
                             "--set", "train.tensorboard=false", "--sample-every", "1000000",
                             "--ckpt-every", "1000000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "shared_cpu.md")
    a = ap.parse_args()
    cores = os.cpu_count() or 1
    settings = ["auto", "1", str(cores)]
    loads = ["quiet", "spinner", "torch"]
    t0 = time.time()
    res: dict[str, dict[str, list[float]]] = {ld: {s: [] for s in settings} for ld in loads}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for load in loads:
            proc = start_load(load, work)
            try:
                time.sleep(3 if proc else 0)  # let the load reach its steady state
                for r in range(a.repeats):
                    for s in settings:  # interleaved: a drift in the load hits every setting alike
                        v = train_its(s, a.iters, work)
                        res[load][s].append(v)
                        print(f"{load:8s} threads={s:5s} repeat {r}: {v:.1f} it/s", flush=True)
            finally:
                if proc:
                    proc.kill()
                    proc.wait()
    med = {ld: {s: statistics.median(v) for s, v in d.items()} for ld, d in res.items()}
    lines = [
        "# Speed on a shared CPU: auto threads against fixed thread counts",
        "",
        f"Command: `python benchmarks/shared_cpu.py --iters {a.iters} --repeats {a.repeats}` "
        f"({time.strftime('%Y-%m-%d')}, {platform.machine()}, {cores} cores, torch {torch.__version__}, "
        f"{(time.time() - t0) / 60:.1f} min).",
        "",
        f"The default `ganforge train` run (digits MLP), {a.iters} generator steps, in a fresh process per cell; "
        f"generator steps/s on the training clock, median of {a.repeats}. *ratio* is the best fixed setting's "
        "speed divided by this one's under the same load (1.00 = as fast as the best; the target is <= 1.5).",
        "",
        "| load | " + " | ".join(f"threads={s}" for s in settings) + " | auto: ratio to best fixed |",
        "|---|" + "---|" * (len(settings) + 1),
    ]
    for ld in loads:
        best_fixed = max(med[ld][s] for s in settings if s != "auto")
        lines.append(f"| {ld} | " + " | ".join(f"{med[ld][s]:.1f}" for s in settings)
                     + f" | {best_fixed / med[ld]['auto']:.2f} |")
    lines += ["", "Loads: *quiet* nothing else; *spinner* one pure-Python busy loop (one core); "
              "*torch* another default training run with 2 threads beside it.", "",
              "Raw values (it/s per repeat):", "", "```", json.dumps(res, indent=1), "```", ""]
    a.out.write_text("\n".join(lines))
    print("\n".join(lines[:len(loads) + 8]))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
