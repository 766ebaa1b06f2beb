#!/usr/bin/env python3
"""Where a toy run's high-quality share goes: blurred modes or samples between them.

    python benchmarks/toy_sample_spread.py RUN_DIR grid25 [--n 4000]

Draws n samples from the run (EMA weights when the run has them) and prints the share
within 3, 5 and 10 standard deviations of the nearest mode centre, the per-coordinate
spread of the samples within 5 sd of their mode (against the data's), and the median
distance to the nearest centre in sd (a 2-D Gaussian of the data's spread: 1.18).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import ganforge  # noqa: E402
from ganforge.data.toy import toy_modes  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run")
    ap.add_argument("toy", choices=["ring8", "grid25"])
    ap.add_argument("--n", type=int, default=4000)
    a = ap.parse_args()
    x = ganforge.sample(a.run, n=a.n, seed=1).reshape(a.n, 2).double()
    centres, std = toy_modes(a.toy)
    dist, near = torch.cdist(x, centres.double()).min(1)
    shares = {k: float((dist <= k * std).double().mean()) for k in (3, 5, 10)}
    close = dist <= 5 * std
    spread = (x - centres.double()[near])[close].std(0).tolist()
    print("share within " + ", ".join(f"{k} sd: {v:.3f}" for k, v in shares.items()))
    print(f"spread of generated modes (per coordinate, within 5 sd): {spread[0]:.4f}, {spread[1]:.4f} "
          f"(data: {std})")
    print(f"median distance to the nearest centre: {float((dist / std).median()):.2f} sd")


if __name__ == "__main__":
    main()
