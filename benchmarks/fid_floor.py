#!/usr/bin/env python3
"""The FID that real images score against other real images, by how many there are: the
floor under any generator's FID at those counts, and why `ganforge eval` warns when its
reference set is small.

    python benchmarks/fid_floor.py --mnist ../shared/data/mnist [--splits 5]

For each count n, --splits random disjoint pairs of real sets are drawn from the MNIST
test split (10,000 images; mnist-lenet, 128 features) and from scikit-learn's 8x8 digits
(1,797 images; the digits extractor, 64 features): FID of n images against n others (equal
counts, as the quality suite scores), and of n against a fixed larger set (as `ganforge
eval` scores 10,000 samples against a reference of n). Both sets are real, so every value
above 0 is the estimator's bias and noise at that count. Writes docs/results/fid_floor.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ganforge.metrics.features import build_extractor  # noqa: E402
from ganforge.metrics.fid import fid_from_features  # noqa: E402


def features(data: str, mnist: Path) -> tuple[np.ndarray, str]:
    """Features of every image of one real set, and the extractor's name."""
    from ganforge.data import load_dataset
    from ganforge.config import DataConfig

    if data == "mnist":
        ds = load_dataset(DataConfig(name="mnist", dir=str(mnist)))
        name = "mnist-lenet"
    else:
        ds = load_dataset(DataConfig(name="digits"))
        name = "digits"
    f, _ = build_extractor(name).run(ds.x)
    return np.asarray(f, dtype=np.float64), name


def floors(f: np.ndarray, counts: list[int], big: int, splits: int, seed: int) -> list[dict]:
    """Per count: FID of n real against n other real (equal) and against ``big`` others."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in counts:
        equal, against = [], []
        for _ in range(splits):
            p = rng.permutation(len(f))
            equal.append(fid_from_features(f[p[:n]], f[p[n:2 * n]]))
            against.append(fid_from_features(f[p[:big]], f[p[big:big + n]]))
        rows.append({"n": n, "equal": equal, "against": against})
    return rows


def cell(v: list[float]) -> str:
    return f"{statistics.median(v):.2f} [{min(v):.2f}-{max(v):.2f}]"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mnist", type=Path, required=True, help="folder with the MNIST IDX files")
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "docs/results/fid_floor.md")
    a = ap.parse_args(argv)
    plan = {"mnist": ([100, 300, 640, 1000, 1280, 2000, 2560, 5000], 5000),
            "digits": ([100, 200, 320, 500, 640, 898], 898)}
    lines = ["# The FID of real images against real images, by count", "",
             f"Command: `python benchmarks/fid_floor.py --mnist ../shared/data/mnist --splits {a.splits}`.", "",
             "Both sides are real images of one dataset, drawn without overlap: every value above 0 is the "
             "estimator's bias and noise at that count (median [range] over the splits). `equal`: n images "
             "against n others, as the quality suite scores (2,000 a side). `against big`: n images against a "
             "fixed larger set, as `ganforge eval` scores 10,000 samples against a reference of n.", ""]
    for data, (counts, big) in plan.items():
        f, name = features(data, a.mnist)
        dim = f.shape[1]
        counts = [n for n in counts if 2 * n <= len(f) and big + n <= len(f)]
        lines += [f"## {data} ({len(f)} images; {name}, {dim} features; `against big`: {big} images)", "",
                  "| n | n per feature | equal | against big |", "|---|---|---|---|"]
        for r in floors(f, counts, big, a.splits, a.seed):
            lines.append(f"| {r['n']} | {r['n'] / dim:.1f} | {cell(r['equal'])} | {cell(r['against'])} |")
            print(f"{data} n={r['n']}: equal {cell(r['equal'])}, against {big}: {cell(r['against'])}", flush=True)
        lines.append("")
    a.out.write_text("\n".join(lines))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
