#!/usr/bin/env python3
"""How far one draw of the latents moves a run's FID: the quality suite's final measure
repeated on other latents.

    python benchmarks/fid_spread.py --runs bench_runs/quality/time/mnist/r3gan-mlp-b256 \\
        bench_runs/quality/steps10000/mnist/r3gan-mlp-b256 [--repeats 8] [--n 2000]

Each RUNS folder holds seedN run folders of the quality suite (a seed still training is left
out, with a line on stderr: quality.finished_runs). For each run, the suite's
measure (n samples against the run's holdout, the suite's latent seed 99,000 + N first)
is drawn --repeats times on consecutive latent seeds through `ganforge.evaluate(...,
repeats=)`; the page gives the first draw (the suite's number), the median, range and sd.
A tutorial cell's folder (its kept generator, quality.TUTORIAL_G) is drawn as the suite
scored it: at its own 32 px against the held-out images resized alike, rebuilt from --mnist.
Writes docs/results/fid_spread.md (--out).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import ganforge  # noqa: E402

SUITE_SEED = 99_000  #: quality.final_metrics draws its latents at this + the train seed


def draws(run: Path, seed: int, n: int, repeats: int, mnist: Path) -> dict:
    """``repeats`` draws of the suite's final measure of one run (a ganforge run folder, or a
    tutorial cell's kept generator, quality.TUTORIAL_G): over_draws' record, with the first
    draw's FID (the suite's own number) under "first" and the run's steps under "step"."""
    import quality as q

    if not (run / q.TUTORIAL_G).exists():
        m = ganforge.evaluate(run, n=n, seed=SUITE_SEED + seed, repeats=repeats, write=False)
        first = ganforge.evaluate(run, n=n, seed=SUITE_SEED + seed, write=False)["fid"]
        return m | {"first": first}
    from ganforge.metrics.evaluate import evaluate_samples, over_draws

    # bench_runs/quality/<budget>/<task>/<config>/seedN, scored as run_tutorial_cell scores it
    budget, task = run.parent.parent.parent.name, run.parent.parent.name
    if task not in q.TASKS or q.budget_parts(budget) is None:
        raise ValueError(f"{run}: a tutorial run is read where the suite keeps it, "
                         "bench_runs/quality/<budget>/<task>/<config>/seedN (the task and budget come from that path)")
    data, _ = q.tutorial_setup(task, seed, budget, mnist)
    model = q.TutorialModel(q.load_tutorial_g(run), data)
    got = [evaluate_samples(model.generate_n(n, SUITE_SEED + seed + i), data.holdout_x, use_cache=False,
                            data_name=data.name, extractor=q.task_extractor(task)) for i in range(repeats)]
    return over_draws(got) | {"first": got[0]["fid"], "step": None if q.is_timed(budget) else q.steps_of(task, budget)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", nargs="+", type=Path, required=True, help="folders of seedN run folders")
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "fid_spread.md")
    ap.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "data" / "mnist",
                    help="the MNIST files (a tutorial run's held-out images are rebuilt from them)")
    a = ap.parse_args(argv)
    import quality as q

    rows = []

    def keep(folder: Path, run: Path, m: dict) -> None:
        single, s = m["first"], m["spread"]["fid"]
        rows.append((f"{folder.parent.parent.name}/{folder.name}/{run.name}", m["step"], single, m["fid"], s))
        print(f"{rows[-1][0]}: first draw {single:.2f}, median {m['fid']:.2f} [{s['min']:.2f}-{s['max']:.2f}] "
              f"sd {s['sd']:.2f}", flush=True)

    if not q.score_finished(a.runs, "fid_spread", lambda run, seed: draws(run, seed, a.n, a.repeats, a.mnist), keep):
        return 2
    lines = ["# FID over draws of the latents", "",
             f"Command: `python benchmarks/fid_spread.py --runs {' '.join(str(f) for f in a.runs)} "
             f"--repeats {a.repeats} --n {a.n}"
             + ("" if a.out == ap.get_default("out") else f" --out {a.out}") + "`.", "",
             f"Each run's final sampler (EMA weights; a tutorial run's generator) scored as the quality suite "
             f"scores it ({a.n} samples, mnist-lenet features, against the run's 2,000 held-out images, the "
             "tutorial's resized to its 32 px as its cells are), on latent seeds 99,000 + the "
             f"train seed and the {a.repeats - 1} after it. *first draw* is the suite's own number.", "",
             "| run | steps | first draw (the suite's) | median | min-max | sd |", "|---|---|---|---|---|---|"]
    for name, step, single, med, s in rows:
        lines.append(f"| {name} | {step} | {single:.2f} | {med:.2f} | {s['min']:.2f}-{s['max']:.2f} | {s['sd']:.2f} |")
    sds = [r[4]["sd"] for r in rows]
    lines += ["", f"Median sd over the runs: {statistics.median(sds):.2f}. One draw of {a.n} samples can land "
              "this far from the run's typical FID, so a difference of that size between two single cells says "
              "little; the suite's targets are on the median of 3 seeds, each one draw. `ganforge eval RUN --n N "
              "--repeats K` gives a run's median and spread.", ""]
    a.out.write_text("\n".join(lines))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
