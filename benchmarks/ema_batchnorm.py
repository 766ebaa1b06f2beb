#!/usr/bin/env python3
"""The EMA generator's batch-norm statistics, copied from the live generator or measured on
its own outputs (train.ema_batchnorm): the same trained runs scored both ways.

    python benchmarks/ema_batchnorm.py --runs bench_runs/quality/steps10000/mnist/r3gan-mlp-b256-g1 \\
        [--repeats 8] [--out docs/results/ema_batchnorm.md]

Each RUNS folder holds seedN run folders of the quality suite; a seed still training (its
run.json says running, interrupted or crashed) is left out, with a line on stderr.
The setting changes no training: G, D and the averaged weights are the same either way
(tests/test_knobs.py), so one trained run answers for both. Each run's final EMA generator
is scored as the suite scores it (quality.final_metrics: its task's samples against the
run's holdout, on latent seeds 99,000 + the train seed and the repeats - 1 after it),
first with the live generator's statistics copied (what every run did before 2026-12-03),
then with its own.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ganforge.api import load_model  # noqa: E402
from ganforge.metrics.evaluate import over_draws  # noqa: E402

MODES = ("copy", "recompute")


def score(run: Path, seed: int, repeats: int) -> dict[str, dict]:
    """Both modes' over_draws records of quality.final_metrics (the suite's final measure, on
    latent seeds 99,000 + ``seed`` and the ``repeats`` - 1 after it), with the first draw's
    FID (the suite's own number) under "first", for one run of the suite
    (bench_runs/quality/<budget>/<task>/<config>/seedN: the task comes from that path)."""
    import quality as q

    task = run.parent.parent.name
    if task not in q.TASKS:
        raise ValueError(f"{run}: not a quality-suite run (bench_runs/quality/<budget>/<task>/<config>/seedN)")
    lm = load_model(run)
    if lm.model.ema is None:
        raise ValueError(f"{run}: the run has no EMA generator (train.ema_* unset)")
    out = {}
    for mode in MODES:  # copy first: recompute overwrites the copied statistics
        lm.cfg.train.ema_batchnorm = mode
        if mode == "copy":  # the live G's statistics, whichever the checkpoint holds
            for dst, src in zip(lm.model.ema.module.buffers(), lm.model.G.buffers()):
                dst.copy_(src)
        got = [q.final_metrics(task, lm, seed + i) for i in range(repeats)]
        out[mode] = over_draws(got) | {"first": got[0]["fid"], "step": lm.step}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", nargs="+", type=Path, required=True, help="folders of seedN run folders of the quality suite")
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "ema_batchnorm.md")
    a = ap.parse_args(argv)
    if a.repeats < 2:
        print("ema_batchnorm: --repeats must be at least 2", file=sys.stderr)
        return 2
    import quality as q

    rows = []

    def keep(folder: Path, run: Path, m: dict) -> None:
        name = f"{folder.parent.parent.name}/{folder.parent.name}/{folder.name}/{run.name}"
        rows.append((name, m))
        c, r = m["copy"], m["recompute"]
        kl = (f", mode KL {c['mode_kl']:.4f} -> {r['mode_kl']:.4f}" if "mode_kl" in c else "")
        print(f"{name} step {c['step']}: FID copy {c['fid']:.2f} (first {c['first']:.2f}), "
              f"recompute {r['fid']:.2f} (first {r['first']:.2f}){kl}", flush=True)

    if not q.score_finished(a.runs, "ema_batchnorm", lambda run, seed: score(run, seed, a.repeats), keep):
        return 2
    lines = ["# The EMA generator's batch-norm statistics: copied or recomputed", "",
             f"Command: `python benchmarks/ema_batchnorm.py --runs {' '.join(str(f) for f in a.runs)} "
             f"--repeats {a.repeats}" + ("" if a.out == ap.get_default("out") else f" --out {a.out}") + "`.", "",
             "Each run's final EMA generator, scored as the quality suite scores it (`quality.final_metrics`: "
             "2,000 samples on MNIST, 26,000 on StackedMNIST, against the run's held-out images; latent seeds "
             f"99,000 + the train seed and the {a.repeats - 1} after it), with its batch-norm statistics copied "
             "from the live generator (`train.ema_batchnorm=copy`, every run before 2026-12-03) and measured on "
             "its own outputs (`recompute`, the default since). Training is the same either way, so both columns "
             "score one trained generator. Medians over the draws [min-max]; *first* is the suite's own draw.", "",
             "| run | steps | FID, copy | first | FID, recompute | first | mode KL, copy | mode KL, recompute |",
             "|---|---|---|---|---|---|---|---|"]
    ratios = []
    for name, m in rows:
        c, r = m["copy"], m["recompute"]
        ratios.append(r["fid"] / c["fid"])

        def cell(rec: dict, k: str, fmt: str = ".2f") -> str:
            if k not in rec["spread"]:
                return "-"
            sp = rec["spread"][k]
            return f"{rec[k]:{fmt}} [{sp['min']:{fmt}}-{sp['max']:{fmt}}]"
        lines.append(f"| {name} | {c['step']} | {cell(c, 'fid')} | {c['first']:.2f} | {cell(r, 'fid')} | "
                     f"{r['first']:.2f} | {cell(c, 'mode_kl', '.4f')} | {cell(r, 'mode_kl', '.4f')} |")
    lines += ["", f"FID, recompute / copy (medians), over the runs: median {statistics.median(ratios):.2f}, "
              f"range {min(ratios):.2f}-{max(ratios):.2f}.", ""]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
