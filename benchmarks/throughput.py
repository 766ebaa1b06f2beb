#!/usr/bin/env python3
"""Throughput of ganforge's training loop against the plain reference loop
(../shared/bench/naive_wgan_gp.py), measured in the same run, as ratios.

Same model and math on both sides: WGAN-GP, lambda 10, Adam(1e-4, 0.5, 0.9), n_critic 5,
batch 64, z 64, on the MNIST 10k split; `mlp28` (the tutorial MLP) and `dcgan28`. Rounds
alternate reference and ganforge so drift in machine load hits both alike; the median
ratio over rounds is reported. ganforge variants: fp32 (default), bf16 autocast,
channels_last, lazy penalty (every 4 critic steps, weight x4), one thread. Model-FLOP utilization:
FLOPs of one training step (torch's per-op FLOP formulas) x steps/s against the matmul
ceiling of ../shared/bench/peak_flops.py.

    python benchmarks/throughput.py --mnist ../shared/data/mnist
"""
from __future__ import annotations

import argparse
import contextlib
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import torch

from ganforge.config import Config
from ganforge.data import load_dataset
from ganforge.train.loop import Trainer
from reference import BENCH, count_flops, ganforge_config, reference_step, script_it_s

VARIANTS = {"fp32": [], "bf16": ["train.precision=bf16"], "channels_last": ["train.channels_last=true"],
            "lazy-gp-4": ["penalty.every=4"], "1-thread": ["train.threads=1"]}


@contextlib.contextmanager
def keep_threads() -> Iterator[None]:
    """A Trainer with train.threads sets torch's process-wide thread count: put it back."""
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def ours(cfg: Config, data, iters: int, warmup: int = 3) -> float:
    with keep_threads():
        t = Trainer(cfg, data)
        for _ in range(warmup):
            t.train_step()
        t0 = time.perf_counter()
        for _ in range(iters):
            t.train_step()
        return iters / (time.perf_counter() - t0)


def step_flops(cfg: Config, data) -> float:
    """FLOPs of one ganforge training step (lazy penalties vary: averaged over 4 steps)."""
    with keep_threads():
        return count_flops(Trainer(cfg, data).train_step, 4)


def reference_flops(arch: str, data) -> float:
    """FLOPs of one step of the reference loop, same counter."""
    step, _ = reference_step(arch, data.x, seed=0)
    return count_flops(step, 2)


def cli_it_s(args: list[str]) -> float:
    """Generator steps/s that `ganforge train` reports (training time only, start-up excluded)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-m", "ganforge", "train", *args, "--quiet", "--out", f"{tmp}/r"],
                             capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return float(re.search(r"\(([0-9.]+) it/s\)", out.stdout).group(1))


def ddp_rows(mnist: Path, iters: int, rounds: int) -> list[dict]:
    """dcgan28 (same config as above, global batch 64) in 1 process with all threads vs
    --nproc 2 with one thread per process."""
    base = ["--data", "mnist", "--data-dir", str(mnist), "--model", "dcgan", "--iters", str(iters),
            "--set", "model.z_dim=64", "--set", "model.width=64", "--set", "train.device=cpu",
            "--set", "train.tensorboard=false", "--set", f"train.sample_every={iters}",
            "--set", f"train.ckpt_every={iters}"]
    one, two = [], []
    for _ in range(rounds):
        one.append(cli_it_s(base))
        two.append(cli_it_s(base + ["--nproc", "2"]))
        print(json.dumps({"ddp_round": {"1 process": one[-1], "2 processes": two[-1]}}), flush=True)
    return [{"setup": "1 process, all threads", "it_s": statistics.median(one)},
            {"setup": "--nproc 2 (gloo), 1 thread each", "it_s": statistics.median(two)}]


def quality_lines(ttq_json: Path) -> list[str]:
    """The variants' effect on quality, from the time-to-quality run recorded next to this
    report (same machine, model and data); nothing if there is none."""
    if not ttq_json.is_file():
        return []
    r = json.loads(ttq_json.read_text())
    out = ["", f"Effect on quality (dcgan28; from [time_to_quality.md](time_to_quality.md): {r['seeds']} seeds, "
           f"{r['iters']} generator iterations, mnist-lenet FID of 1,000 samples against 2,000 held-out digits):", "",
           f"| side | final FID, median [min-max] | FID at {r['equal_time_s']:.0f} s of training "
           f"| time to FID {r['headline']:g} vs reference |", "|---|---|---|---|"]
    for row in r["rows"]:
        lo, hi = row["final_fid_range"]
        speed = "not reached" if row["speedup"] is None else f"{row['speedup']:.2f}x"
        out.append(f"| {row['side']} | {row['final_fid']:.1f} [{lo:.1f}-{hi:.1f}] | {row['fid_at_equal_time']:.1f} "
                   f"| {speed} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--archs", nargs="+", default=["mlp28", "dcgan28"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--ddp", action="store_true", help="also: dcgan28 in 1 process vs 2 processes (gloo)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "results" / "throughput.md")
    a = ap.parse_args()
    peak = json.loads(subprocess.run([sys.executable, str(BENCH / "peak_flops.py")], capture_output=True, text=True,
                                     check=True).stdout)
    data = load_dataset(ganforge_config("mlp28", a.mnist, []).data)
    rows = []
    for arch in a.archs:
        iters = 40 if arch == "mlp28" else 12
        ref, mine = [], {v: [] for v in a.variants}
        for r in range(a.rounds):
            ref.append(script_it_s(arch, a.mnist, iters)["g_iters_per_s"])
            for v in a.variants:
                mine[v].append(ours(ganforge_config(arch, a.mnist, VARIANTS[v]), data, iters))
            print(json.dumps({"arch": arch, "round": r, "naive": ref[-1], **{v: round(mine[v][-1], 3) for v in mine}}),
                  flush=True)
        ref_flops = reference_flops(arch, data)
        ref_its = statistics.median(ref)
        for v in a.variants:
            flops = step_flops(ganforge_config(arch, a.mnist, VARIANTS[v]), data)
            ratios = [m / n for m, n in zip(mine[v], ref)]
            its = statistics.median(mine[v])
            peak_v = peak["bf16_gflops"] if v == "bf16" else peak["fp32_gflops"]
            rows.append({"arch": arch, "variant": v, "ref_it_s": ref_its, "it_s": its,
                         "ratio": statistics.median(ratios), "critic_samples_s": its * 5 * 64,
                         "ref_gflop_per_step": ref_flops / 1e9, "gflop_per_step": flops / 1e9,
                         "ref_mfu": ref_flops * ref_its / 1e9 / peak["fp32_gflops"],
                         "mfu": flops * its / 1e9 / peak_v})
    lines = ["# Throughput: ganforge vs the reference loop", "",
             "Generated by `benchmarks/throughput.py`; ratios are ganforge / reference measured in alternating rounds "
             "of the same run.", "",
             f"Command: `python benchmarks/throughput.py {' '.join(sys.argv[1:])}`", "",
             f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; "
             f"matmul ceiling {peak['fp32_gflops']} GFLOP/s fp32, {peak['bf16_gflops']} GFLOP/s bf16 "
             "(../shared/bench/peak_flops.py, same run).", "",
             "| model | variant | reference it/s | ganforge it/s | ratio | ganforge critic samples/s "
             "| GFLOP per G step: reference / ganforge | MFU: reference / ganforge |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['arch']} | {r['variant']} | {r['ref_it_s']:.2f} | {r['it_s']:.2f} | **{r['ratio']:.2f}x** | "
                     f"{r['critic_samples_s']:.0f} | {r['ref_gflop_per_step']:.2f} / {r['gflop_per_step']:.2f} | "
                     f"{100 * r['ref_mfu']:.1f}% / {100 * r['mfu']:.1f}% |")
    if a.ddp:
        dd = ddp_rows(a.mnist, 30, a.rounds)
        lines += ["", "Data-parallel on this machine (dcgan28, global batch 64, `ganforge train` as run by a user; "
                  "it/s from its own report, start-up excluded):", "",
                  "| setup | ganforge it/s | vs 1 process |", "|---|---|---|"]
        lines += [f"| {r['setup']} | {r['it_s']:.2f} | {r['it_s'] / dd[0]['it_s']:.2f}x |" for r in dd]
    lines += quality_lines(a.out.parent / "time_to_quality.json")
    lines += ["", "GFLOP per G step counts every FLOP a loop executes in one generator iteration (5 critic "
              "steps with their penalty double-backward, then the generator step), with torch's per-op formulas. "
              "The two loops compute the same gradients; ganforge executes fewer FLOPs because it skips work whose "
              "result is discarded (D's weight gradients in the generator step; the backward of D's forward graph "
              "on zeros in the penalty's double backward, see docs/scale.md). MFU = executed FLOPs x steps/s / "
              "the fp32 (bf16 for the bf16 row) matmul ceiling, so a loop that wastes work can show a higher MFU "
              "at a lower speed. `lazy-gp-4` does less work per step and is a different schedule of the same "
              "objective: judge it by time to quality ([time_to_quality.md](time_to_quality.md)).", ""]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
