#!/usr/bin/env python3
"""The EMA generator's batch-norm statistics, copied from the live generator or measured on
its own outputs (train.ema_batchnorm): the same trained runs scored both ways.

    python benchmarks/ema_batchnorm.py --runs bench_runs/quality/steps10000/mnist/r3gan-mlp-b256-g1 \\
        [--repeats 8] [--n 2000] [--out docs/results/ema_batchnorm.md]

Each RUNS folder holds seedN run folders of the quality suite (or is itself a run folder).
The setting changes no training: G, D and the averaged weights are the same either way
(tests/test_knobs.py), so one trained run answers for both. Each run's final EMA generator
is scored as the suite scores it (n samples against the run's holdout, latent seeds 99,000 +
the train seed and the repeats - 1 after it), first with the live generator's statistics
copied (what every run did before 2026-12-03), then with its own.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ganforge.api import load_model  # noqa: E402
from ganforge.metrics.evaluate import evaluate_samples, over_draws, reference_set  # noqa: E402

SUITE_SEED = 99_000  #: quality.final_metrics draws its latents at this + the train seed
MODES = ("copy", "recompute")


def score(run: Path, seed: int, n: int, repeats: int) -> dict[str, dict]:
    """Both modes' over_draws records (with the first draw under "first") for one run."""
    lm = load_model(run)
    if lm.model.ema is None:
        raise ValueError(f"{run}: the run has no EMA generator (train.ema_* unset)")
    real, _ = reference_set(lm.data, "auto")
    out = {}
    for mode in MODES:  # copy first: recompute overwrites the copied statistics
        lm.cfg.train.ema_batchnorm = mode
        if mode == "copy":  # the live G's statistics, whichever the checkpoint holds
            for dst, src in zip(lm.model.ema.module.buffers(), lm.model.G.buffers()):
                dst.copy_(src)
        got = [evaluate_samples(lm.model.generate_n(n, SUITE_SEED + seed + i), real.cpu(), data_name=lm.data.name)
               for i in range(repeats)]
        out[mode] = over_draws(got) | {"first": got[0]["fid"], "step": lm.step}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", nargs="+", type=Path, required=True, help="folders of seedN run folders, or run folders")
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "ema_batchnorm.md")
    a = ap.parse_args(argv)
    if a.repeats < 2 or a.n < 10:
        print("ema_batchnorm: --repeats must be at least 2 and --n at least 10", file=sys.stderr)
        return 2
    rows = []
    for folder in a.runs:
        runs = [folder] if (folder / "config.yaml").exists() else sorted(folder.glob("seed*"))
        if not runs:
            print(f"ema_batchnorm: {folder} holds no run folder", file=sys.stderr)
            return 2
        for run in runs:
            seed = int(re.sub(r"\D", "", run.name) or 0) if run.name.startswith("seed") else 0
            try:
                m = score(run, seed, a.n, a.repeats)
            except (ValueError, OSError) as e:
                print(f"ema_batchnorm: {e}", file=sys.stderr)
                return 2
            name = f"{folder.parent.parent.name}/{folder.name}/{run.name}" if run is not folder else str(run)
            rows.append((name, m))
            c, r = m["copy"], m["recompute"]
            print(f"{name} step {c['step']}: copy {c['fid']:.2f} (first {c['first']:.2f}), "
                  f"recompute {r['fid']:.2f} (first {r['first']:.2f})", flush=True)
    lines = ["# The EMA generator's batch-norm statistics: copied or recomputed", "",
             f"Command: `python benchmarks/ema_batchnorm.py --runs {' '.join(str(f) for f in a.runs)} "
             f"--repeats {a.repeats} --n {a.n}" + ("" if a.out == ap.get_default("out") else f" --out {a.out}")
             + "`.", "",
             f"Each run's final EMA generator, scored as the quality suite scores it ({a.n} samples, the data's "
             f"features, against the run's held-out images; latent seeds 99,000 + the train seed and the "
             f"{a.repeats - 1} after it), with its batch-norm statistics copied from the live generator "
             "(`train.ema_batchnorm=copy`, every run before 2026-12-03) and measured on its own outputs "
             "(`recompute`, the default since). Training is the same either way. *first* is the suite's draw.", "",
             "| run | steps | copy: median [min-max] | copy: first | recompute: median [min-max] | recompute: first "
             "| recompute / copy (medians) |", "|---|---|---|---|---|---|---|"]
    ratios = []
    for name, m in rows:
        c, r = m["copy"], m["recompute"]
        cs, rs = c["spread"]["fid"], r["spread"]["fid"]
        ratios.append(r["fid"] / c["fid"])
        lines.append(f"| {name} | {c['step']} | {c['fid']:.2f} [{cs['min']:.2f}-{cs['max']:.2f}] | {c['first']:.2f} "
                     f"| {r['fid']:.2f} [{rs['min']:.2f}-{rs['max']:.2f}] | {r['first']:.2f} | {ratios[-1]:.2f} |")
    lines += ["", f"Median ratio over the runs: {statistics.median(ratios):.2f}.", ""]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
