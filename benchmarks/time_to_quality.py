#!/usr/bin/env python3
"""Time to quality: wall-clock seconds and generator iterations until the digit-classifier
(mnist-lenet) FID on MNIST falls to a threshold, for the reference loop and ganforge's
speed configurations, median of several seeds, all in this one run.

Same model and objective on every side: WGAN-GP (lambda 10), Adam(1e-4, 0.5, 0.9), n_critic
5, batch 64, z 64, the `dcgan28` networks of ../shared/bench/naive_wgan_gp.py (ganforge's
dcgan at width 64 is that architecture). Training data: the MNIST 10k split minus a fixed
2,000 held out; FID of 1,000 samples (fixed latents, generator in eval mode) against the
held-out 2,000, every --eval-every iterations. Evaluation time is excluded from the clock.

The reference side is the step of naive_wgan_gp.py (benchmarks/reference.py: its models
imported from the file, its 15-line step reproduced verbatim because the script keeps it
inside main()); its speed is checked against the script itself at the start of the run.

Seeds are interleaved (for each seed: reference, then every ganforge variant) so that
drift in machine load hits every side alike.

    python benchmarks/time_to_quality.py --mnist ../shared/data/mnist
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np
import torch

from ganforge.config import Config
from ganforge.data import load_dataset
from ganforge.metrics.features import EXTRACTORS
from ganforge.metrics.fid import fid_from_features
from ganforge.train.loop import Trainer
from reference import ganforge_config, reference_step, script_it_s
from study import first_reach, median_or_none

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"fp32": [], "bf16": ["train.precision=bf16"], "lazy-gp-4": ["penalty.every=4"],
            "bf16+lazy-gp-4": ["train.precision=bf16", "penalty.every=4"]}


class Judge:
    """FID of a generator's samples of fixed latents against the held-out digits."""

    def __init__(self, holdout: torch.Tensor, n: int, z_dim: int) -> None:
        self.ext = EXTRACTORS.get("mnist-lenet")(device="cpu")
        self.real, _ = self.ext.run(holdout)
        self.z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(1234))

    @torch.no_grad()
    def fid(self, g: torch.nn.Module) -> float:
        was = g.training
        g.eval()
        try:
            x = torch.cat([g(self.z[i:i + 500]) for i in range(0, len(self.z), 500)]).float()
        finally:
            g.train(was)
        if not torch.isfinite(x).all():
            return math.inf
        fake, _ = self.ext.run(x)
        return fid_from_features(fake, self.real)


def reference_run(data: torch.Tensor, seed: int, iters: int, every: int) -> Iterator[tuple]:
    """The reference loop; yields (iteration, training seconds, G) every ``every`` iterations."""
    step, g = reference_step("dcgan28", data, seed)
    return _timed(step, g, iters, every)


def ganforge_run(cfg: Config, data, iters: int, every: int) -> Iterator[tuple]:
    """ganforge's step part (the TrainStep the fit loop runs, without its clock and callbacks)."""
    t = Trainer(cfg, data)  # the device, the thread count and the two parts, as a run has them
    steps = iter(range(iters))
    return _timed(lambda: t.stepper.run(next(steps), iters), t.G, iters, every)


def _timed(step: Callable[[], object], g: torch.nn.Module, iters: int, every: int) -> Iterator[tuple]:
    clock = 0.0
    for i in range(1, iters + 1):
        t0 = time.perf_counter()
        step()
        clock += time.perf_counter() - t0
        if i % every == 0:
            yield i, clock, g


def first_below(curve: list[dict], threshold: float, key: str) -> Optional[float]:
    """``key`` of the first evaluation whose FID is at most ``threshold``."""
    return first_reach(curve, "fid", threshold, key)


#: median over seeds; a seed that never reached the threshold counts as infinitely slow
med = median_or_none


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist", type=Path, help="folder with the MNIST IDX files (required unless --from-json)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=600, help="generator iterations per run")
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--eval-n", type=int, default=1000)
    ap.add_argument("--thresholds", type=float, nargs="+", default=[500.0, 350.0, 250.0],
                    help="FID thresholds; the headline is the lowest that every reference seed reaches")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "time_to_quality.json")
    ap.add_argument("--from-json", type=Path, help="only redraw the table and figure of a finished run's JSON")
    a = ap.parse_args()
    if a.from_json:  # redraw; --thresholds given on the command line are re-applied to the curves
        result = json.loads(a.from_json.read_text())
        if "--thresholds" in sys.argv:
            result.update(summarize(result["curves"], a.thresholds))
            result["redrawn"] = "python benchmarks/time_to_quality.py " + " ".join(sys.argv[1:])
            a.from_json.write_text(json.dumps(result, indent=1))
        report(result, a.from_json.with_suffix(".png"))
        return
    if a.mnist is None:
        ap.error("--mnist DIR is required (or --from-json FILE to redraw a finished run)")

    data = load_dataset(ganforge_config("dcgan28", a.mnist, [], holdout=2000).data)
    judge = Judge(data.holdout_x, a.eval_n, 64)
    check = script_it_s("dcgan28", a.mnist, 10, warmup=2)
    sides = ["reference"] + a.variants
    curves: dict[str, list[list[dict]]] = {s: [] for s in sides}
    for seed in range(a.seeds):
        for side in sides:
            runs = (reference_run(data.x, seed, a.iters, a.eval_every) if side == "reference"
                    else ganforge_run(ganforge_config("dcgan28", a.mnist, VARIANTS[side], holdout=2000, seed=seed), data, a.iters, a.eval_every))
            curve = [{"iter": i, "seconds": round(s, 2), "fid": round(judge.fid(g), 2)} for i, s, g in runs]
            curves[side].append(curve)
            print(json.dumps({"seed": seed, "side": side, "final_fid": curve[-1]["fid"],
                              "it_s": round(curve[-1]["iter"] / curve[-1]["seconds"], 3),
                              **{f"s_to_{t:g}": first_below(curve, t, "seconds") for t in a.thresholds}}), flush=True)

    ref_it_s = statistics.median(c[-1]["iter"] / c[-1]["seconds"] for c in curves["reference"])
    result = {"command": "python benchmarks/time_to_quality.py " + " ".join(sys.argv[1:]),
              "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
              "reference_script_it_s": check["g_iters_per_s"], "reference_replica_it_s": round(ref_it_s, 3),
              "seeds": a.seeds, "iters": a.iters, "curves": curves,
              **summarize(curves, a.thresholds)}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1))
    report(result, a.out.with_suffix(".png"))


def summarize(curves: dict[str, list[list[dict]]], thresholds: list[float]) -> dict:
    """Per side: median it/s, final FID, and for each threshold the median iterations and
    seconds to reach it; speed-up against the reference at the headline threshold: the
    lowest one that every reference seed reached (a rule fixed before the numbers are in)."""
    thresholds = sorted(thresholds, reverse=True)
    rows = []
    for side, cs in curves.items():
        row = {"side": side, "it_s": statistics.median(c[-1]["iter"] / c[-1]["seconds"] for c in cs),
               "final_fid": statistics.median(c[-1]["fid"] for c in cs),
               "final_fid_range": [min(c[-1]["fid"] for c in cs), max(c[-1]["fid"] for c in cs)]}
        for t in thresholds:
            row[f"iters_to_{t:g}"] = med([first_below(c, t, "iter") for c in cs])
            row[f"s_to_{t:g}"] = med([first_below(c, t, "seconds") for c in cs])
            row[f"reached_{t:g}"] = sum(first_below(c, t, "iter") is not None for c in cs)
        rows.append(row)
    # quality at equal training time: the FID of each side's last evaluation within the
    # shortest side's whole run (a side that is faster per iteration is not penalised for
    # having run fewer iterations in that time)
    t_eq = min(statistics.median(c[-1]["seconds"] for c in cs) for cs in curves.values())
    for row, cs in zip(rows, curves.values(), strict=True):
        at = [[p["fid"] for p in c if p["seconds"] <= t_eq] for c in cs]
        row["fid_at_equal_time"] = statistics.median(a[-1] if a else math.inf for a in at)
    ref = next(r for r in rows if r["side"] == "reference")
    reached = [t for t in thresholds if ref[f"reached_{t:g}"] == len(curves["reference"])]
    head = reached[-1] if reached else thresholds[0]
    for r in rows:
        s, ref_s = r[f"s_to_{head:g}"], ref[f"s_to_{head:g}"]
        r["speedup"] = (ref_s / s) if (ref_s and s) else None
    return {"thresholds": thresholds, "headline": head, "rows": rows, "equal_time_s": round(t_eq, 1)}


def report(result: dict, png: Path) -> None:
    """Write (and print) the markdown report next to ``png``; draw median FID against
    training seconds per side into ``png``."""
    rows, thresholds, head = result["rows"], result["thresholds"], result["headline"]
    fmt = lambda v, f="{:.0f}": "not reached" if v is None else f.format(v)  # noqa: E731
    ref = rows[0]
    lines = ["# Time to quality: ganforge vs the reference loop", "",
             "Generated by `benchmarks/time_to_quality.py`. DCGAN (`dcgan28`) WGAN-GP on MNIST, same model and "
             "objective on every side; FID is the digit-classifier (mnist-lenet) FID of 1,000 samples against "
             "2,000 held-out digits; seconds are training time only (evaluation excluded); medians over seeds, "
             "a seed that never reaches a threshold counts as infinitely slow.", "",
             f"Command: `{result['command']}`"
             + (f"; table redrawn from its curves with `{result['redrawn']}`" if result.get("redrawn") else ""), "",
             f"Machine: {result['machine']}. The reference script ran at {result['reference_script_it_s']} it/s "
             f"in this run, its step as replayed here at {result['reference_replica_it_s']:.3f} it/s.", "",
             f"| side | it/s | final FID after {result['iters']} iters (median [min-max]) | "
             f"FID at {result['equal_time_s']:.0f} s | "
             + " | ".join(f"iters to {t:g} | s to {t:g}" for t in thresholds)
             + f" | seeds reaching {head:g} | speed-up to {head:g} |",
             "|---" * (6 + 2 * len(thresholds)) + "|"]
    for r in rows:
        thr = " | ".join(f"{fmt(r[f'iters_to_{t:g}'])} | {fmt(r[f's_to_{t:g}'], '{:.1f}')}" for t in thresholds)
        lo, hi = r["final_fid_range"]
        lines.append(f"| {r['side']} | {r['it_s']:.2f} | {r['final_fid']:.1f} [{lo:.1f}-{hi:.1f}] | "
                     f"{r['fid_at_equal_time']:.1f} | {thr} | "
                     f"{r[f'reached_{head:g}']}/{result['seeds']} | {fmt(r['speedup'], '**{:.2f}x**')} |")
    # sound: every seed reaches the headline threshold and the final FID is no worse than
    # the worst reference seed's
    sound = [r for r in rows[1:] if r[f"reached_{head:g}"] == result["seeds"] and r["speedup"]
             and r["final_fid"] <= ref["final_fid_range"][1]]
    if sound:
        best = max(sound, key=lambda r: r["speedup"])
        lines += ["", f"Fastest sound configuration (all seeds reach FID {head:g}, final FID no worse than the "
                  f"worst reference seed): **{best['side']}**, {best['speedup']:.2f}x the reference loop's "
                  f"time to FID {head:g} ({fmt(best[f's_to_{head:g}'], '{:.1f}')} s vs "
                  f"{fmt(ref[f's_to_{head:g}'], '{:.1f}')} s)."]
    else:
        lines += ["", "No ganforge configuration was sound by that rule in this run."]
    lines += ["", f"FID at {result['equal_time_s']:.0f} s: median over seeds of the last evaluation within the "
              "training time of the shortest side's whole run, i.e. quality at equal wall-clock time."]
    lines += ["", f"![median FID against training seconds]({png.name})", ""]
    png.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for side, curves in result["curves"].items():
        pts = list(zip(*[[(p["seconds"], p["fid"]) for p in c] for c in curves], strict=True))
        secs = [statistics.median(s for s, _ in step) for step in pts]
        fids = [statistics.median(f for _, f in step) for step in pts]
        ax.plot(secs, fids, marker="o", ms=3, label=side, lw=2 if side == "reference" else 1.5,
                color="black" if side == "reference" else None)
    for t in thresholds:
        ax.axhline(t, color="grey", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("training seconds (evaluation excluded)")
    ax.set_ylabel("FID (mnist-lenet, 1,000 samples)")
    ax.set_title(f"Time to quality, DCGAN WGAN-GP on MNIST, median of {result['seeds']} seeds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(f"figure: {png}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
