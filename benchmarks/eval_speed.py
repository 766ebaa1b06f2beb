#!/usr/bin/env python3
"""Seconds for `ganforge eval` of 10,000 generated MNIST samples (2,000 held-out reference),
cold (reference features computed) and warm (reference features from the cache).

    python benchmarks/eval_speed.py --mnist ../shared/data/mnist
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

import ganforge


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", type=Path, required=True)
    ap.add_argument("--n", type=int, default=10000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GANFORGE_CACHE"] = str(Path(tmp) / "cache")
        run = Path(tmp) / "run"
        ganforge.train({"data": {"name": "mnist", "dir": str(a.mnist), "holdout": 2000},
                        "model": {"name": "dcgan"}, "train": {"iters": 2, "tensorboard": False, "device": "cpu"},
                        "out": str(run)}, log=lambda m: None)
        times = {}
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            m = ganforge.evaluate(run, n=a.n)
            times[label] = round(time.perf_counter() - t0, 2)
        print(json.dumps({"n": a.n, "threads": torch.get_num_threads(), "seconds_cold_cache": times["cold"],
                          "seconds_warm_cache": times["warm"], "metrics": sorted(k for k in m if k != "seconds")}))


if __name__ == "__main__":
    main()
