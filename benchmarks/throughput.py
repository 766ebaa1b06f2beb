#!/usr/bin/env python3
"""Throughput of ganforge's training loop against the plain reference loop
(../shared/bench/naive_wgan_gp.py), measured in the same run, as ratios.

Same model and math on both sides: WGAN-GP, lambda 10, Adam(1e-4, 0.5, 0.9), n_critic 5,
batch 64, z 64, on the MNIST 10k split; `mlp28` (the tutorial MLP) and `dcgan28`. Rounds
alternate reference and ganforge so drift in machine load hits both alike; the median
ratio over rounds is reported. ganforge variants: fp32 (default), bf16 autocast,
channels_last, lazy penalty (every 4 critic steps, weight x4). Model-FLOP utilization:
FLOPs of one training step (torch's FlopCounterMode) x steps/s against the matmul
ceiling of ../shared/bench/peak_flops.py.

    python benchmarks/throughput.py --mnist ../shared/data/mnist
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from ganforge.config import Config
from ganforge.data import load_dataset
from ganforge.train.loop import Trainer

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
VARIANTS = {"fp32": [], "bf16": ["train.precision=bf16"], "channels_last": ["train.channels_last=true"],
            "lazy-gp-4": ["penalty.every=4"]}


def config(arch: str, mnist: Path, extra: list[str]) -> Config:
    cfg = Config.from_dict({
        "data": {"name": "mnist", "dir": str(mnist)},
        "model": ({"name": "mlp", "z_dim": 64, "g_hidden": [256, 512, 1024], "d_hidden": [512, 256], "g_norm": "none"}
                  if arch == "mlp28" else {"name": "dcgan", "z_dim": 64, "width": 64}),
        "train": {"batch_size": 64, "n_critic": 5, "device": "cpu", "tensorboard": False},
    })
    cfg.apply_overrides(extra)
    cfg.validate()
    return cfg


def ours(cfg: Config, data, iters: int, warmup: int = 3) -> float:
    t = Trainer(cfg, data)
    for _ in range(warmup):
        t.train_step()
    t0 = time.perf_counter()
    for _ in range(iters):
        t.train_step()
    return iters / (time.perf_counter() - t0)


def naive(arch: str, mnist: Path, iters: int) -> float:
    out = subprocess.run([sys.executable, str(BENCH / "naive_wgan_gp.py"), "--arch", arch, "--iters", str(iters),
                          "--warmup", "3", "--mnist", str(mnist)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["g_iters_per_s"]


def step_flops(cfg: Config, data) -> float:
    """FLOPs of one training step, summed over every op torch knows a formula for.

    torch's FlopCounterMode also tracks modules with backward hooks, which autograd.grad
    (the penalty's input gradient) rejects; this dispatch mode uses the same per-op
    formulas without the module tracking."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Count(TorchDispatchMode):
        flops = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                self.flops += formula(*args, **kwargs, out_val=out)
            return out

    t = Trainer(cfg, data)
    with Count() as c:
        for _ in range(4):  # lazy penalties vary from step to step: average over a cycle
            t.train_step()
    return float(c.flops) / 4


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--archs", nargs="+", default=["mlp28", "dcgan28"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "results" / "throughput.md")
    a = ap.parse_args()
    peak = json.loads(subprocess.run([sys.executable, str(BENCH / "peak_flops.py")], capture_output=True, text=True,
                                     check=True).stdout)
    data = load_dataset(config("mlp28", a.mnist, []).data)
    rows = []
    for arch in a.archs:
        iters = 40 if arch == "mlp28" else 12
        ref, mine = [], {v: [] for v in a.variants}
        for r in range(a.rounds):
            ref.append(naive(arch, a.mnist, iters))
            for v in a.variants:
                mine[v].append(ours(config(arch, a.mnist, VARIANTS[v]), data, iters))
            print(json.dumps({"arch": arch, "round": r, "naive": ref[-1], **{v: round(mine[v][-1], 3) for v in mine}}),
                  flush=True)
        for v in a.variants:
            flops = step_flops(config(arch, a.mnist, VARIANTS[v]), data)
            ratios = [m / n for m, n in zip(mine[v], ref)]
            its = statistics.median(mine[v])
            peak_v = peak["bf16_gflops"] if v == "bf16" else peak["fp32_gflops"]
            rows.append({"arch": arch, "variant": v, "ref_it_s": statistics.median(ref), "it_s": its,
                         "ratio": statistics.median(ratios), "critic_samples_s": its * 5 * 64,
                         "gflop_per_step": flops / 1e9, "mfu": flops * its / 1e9 / peak_v})
    lines = ["# Throughput: ganforge vs the reference loop", "",
             "Generated by `benchmarks/throughput.py`; ratios are ganforge / reference measured in alternating rounds "
             "of the same run.", "",
             f"Command: `python benchmarks/throughput.py {' '.join(sys.argv[1:])}`", "",
             f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; "
             f"matmul ceiling {peak['fp32_gflops']} GFLOP/s fp32, {peak['bf16_gflops']} GFLOP/s bf16 "
             "(../shared/bench/peak_flops.py, same run).", "",
             "| model | variant | reference it/s | ganforge it/s | ratio | critic samples/s | GFLOP per G step | MFU |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['arch']} | {r['variant']} | {r['ref_it_s']:.2f} | {r['it_s']:.2f} | **{r['ratio']:.2f}x** | "
                     f"{r['critic_samples_s']:.0f} | {r['gflop_per_step']:.2f} | {100 * r['mfu']:.1f}% |")
    lines += ["", "MFU counts the model FLOPs of a whole step (critic forwards, penalty double-backward, generator "
              "step) against the fp32 (or bf16) matmul ceiling. `lazy-gp-4` does less work per step and is a "
              "different schedule of the same objective: judge it by time to quality, not steps/s alone.", ""]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
