#!/usr/bin/env python3
"""Training throughput of ganforge on a CUDA GPU, at 28 and 64 px, against the GPU's own
matmul ceiling measured in the same run.

Two settings on MNIST (DCGAN networks, width 64, z 64): *wgan-gp*, the classic setting of
the CPU throughput page (n_critic 5, gradient penalty lambda 10, Adam 1e-4) and *r3gan*,
the `r3gan-mnist` preset (RpGAN, R1+R2, augmentation, EMA, one D step per G step).
Variants: fp32 (train.tf32=false), TF32 matmuls/convolutions (train.tf32, the default on
CUDA), bf16 autocast, channels_last; batch
64 and 256. Each figure is the median of 3 timed windows of 30 generator steps after 10
warm-up steps, with the GPU synchronised at the window's ends. MFU = FLOPs executed per
generator step (torch's per-op formulas) x steps/s / the matmul ceiling of the precision
used (fp32, TF32 or bf16 products of 8192-square matrices).

    python benchmarks/gpu_throughput.py --mnist DIR --out docs/results/gpu_throughput.md
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import traceback
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ganforge.config import Config, deep_merge, load_preset  # noqa: E402
from ganforge.data import load_dataset  # noqa: E402
from ganforge.train.loop import Trainer  # noqa: E402
from reference import count_flops  # noqa: E402

#: train.tf32 is on by default on CUDA; every variant but "tf32" turns it off, so that the
#: rows separate the effect of each setting
VARIANTS = {"fp32": {"train": {"tf32": False}}, "tf32": {"train": {"tf32": True}},
            "bf16": {"train": {"precision": "bf16", "tf32": False}},
            "channels_last": {"train": {"channels_last": True, "tf32": False}}}


def set_tf32(on: bool) -> None:
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def ceiling(dtype: torch.dtype, tf32: bool, n: int = 8192, reps: int = 10) -> float:
    """Matmul TFLOP/s on random n x n matrices (mean of reps after 3 warm-ups)."""
    set_tf32(tf32)
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e12


def make_config(setting: str, mnist: Path, size: int, batch: int, variant: str) -> Config:
    if setting == "wgan-gp":
        d = {"model": {"name": "dcgan", "z_dim": 64, "width": 64},
             "train": {"n_critic": 5}}
    else:
        d = load_preset("r3gan-mnist")
    d = deep_merge(d, {"data": {"name": "mnist", "dir": str(mnist), "size": size},
                       "train": {"batch_size": batch, "device": "cuda", "tensorboard": False, "seed": 0}})
    d = deep_merge(d, VARIANTS[variant])
    cfg = Config.from_dict(d)
    cfg.validate()
    return cfg


def steps_per_s(cfg: Config, data, windows: int = 3, steps: int = 30, warmup: int = 10) -> float:
    return time_steps(Trainer(cfg, data), windows, steps, warmup)


def sync(device: torch.device) -> None:
    """Wait for ``device``'s queued work (a CPU runs it as it is issued: nothing to wait for)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(t: Trainer, windows: int = 3, steps: int = 30, warmup: int = 10) -> float:
    """Generator steps per second of ``t``: the median of ``windows`` windows of ``steps``
    steps after ``warmup`` steps, the device synchronised at each window's ends."""
    for _ in range(warmup):
        t.train_step()
    sync(t.device)
    out = []
    for _ in range(windows):
        t0 = time.perf_counter()
        for _ in range(steps):
            t.train_step()
        sync(t.device)
        out.append(steps / (time.perf_counter() - t0))
    return statistics.median(out)


def step_flops(cfg: Config, data) -> float:
    t = Trainer(cfg, data)
    t.train_step()
    return count_flops(t.train_step, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "gpu_throughput.md")
    ap.add_argument("--sizes", default="28,64")
    ap.add_argument("--batches", default="64,256")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("this benchmark needs a CUDA GPU")
    peak = {"fp32": ceiling(torch.float32, False), "tf32": ceiling(torch.float32, True),
            "bf16": ceiling(torch.bfloat16, False)}
    set_tf32(False)
    print(json.dumps({"ceiling_tflops": peak}), flush=True)
    rows = []
    datas = {}
    for size in (int(s) for s in a.sizes.split(",")):
        for setting in ("wgan-gp", "r3gan"):
            for batch in (int(b) for b in a.batches.split(",")):
                for variant in VARIANTS:
                    try:
                        cfg = make_config(setting, a.mnist, size, batch, variant)
                        if size not in datas:
                            datas[size] = load_dataset(cfg.data)
                        its = steps_per_s(cfg, datas[size])
                        flops = step_flops(cfg, datas[size])
                        ceil = peak["bf16" if variant == "bf16" else ("tf32" if variant == "tf32" else "fp32")]
                        row = {"size": size, "setting": setting, "batch": batch, "variant": variant,
                               "it_s": its, "critic_samples_s": its * cfg.train.n_critic * batch,
                               "gflop_per_step": flops / 1e9, "mfu": flops * its / 1e12 / ceil}
                    except Exception as e:  # one broken cell must not lose the others' figures
                        traceback.print_exc()
                        row = {"size": size, "setting": setting, "batch": batch, "variant": variant,
                               "error": f"{type(e).__name__}: {e}"[:200]}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    name = torch.cuda.get_device_name()
    lines = ["# Throughput on a GPU", "",
             "Generated by `benchmarks/gpu_throughput.py` (its docstring says what is measured).", "",
             f"Command: `python benchmarks/gpu_throughput.py {' '.join(sys.argv[1:])}`", "",
             f"Machine: {name}, torch {torch.__version__}; matmul ceiling measured in the same run: "
             f"fp32 {peak['fp32']:.1f}, TF32 {peak['tf32']:.1f}, bf16 {peak['bf16']:.1f} TFLOP/s.", "",
             "| px | setting | batch | variant | G steps/s | critic samples/s | GFLOP per G step | MFU |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['size']} | {r['setting']} | {r['batch']} | {r['variant']} | failed: {r['error']} | | | |")
        else:
            lines.append(f"| {r['size']} | {r['setting']} | {r['batch']} | {r['variant']} | {r['it_s']:.1f} | "
                         f"{r['critic_samples_s']:.0f} | {r['gflop_per_step']:.2f} | {100 * r['mfu']:.2f}% |")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    (a.out.with_suffix(".json")).write_text(json.dumps({"device": name, "peak_tflops": peak, "rows": rows}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
