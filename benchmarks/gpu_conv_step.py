#!/usr/bin/env python3
"""Where a quality-suite config's training step spends its time on a GPU, one process alone.

For each config (benchmarks/quality_tasks.py CONFIGS, resolved for the MNIST task as the
suite resolves it): generator steps per second (median of 3 windows of --steps steps after
10 warm-ups, the device synchronised at the window's ends), the FLOPs of one step (torch's
per-op formulas, benchmarks/reference.py count_flops) and the rate they make, and the
--top CUDA kernels of --profile profiled steps by their share of device time. Written for
the image issue's question: why a residual network at batch 256 ran about 4 steps a second
on an H200 in gpu_image_cells.sh, where the MLP default ran 40.

    python benchmarks/gpu_conv_step.py --mnist DIR --configs r3gan-b256-g1-resnet,r3gan-mlp-b256-g1 --out FILE.md
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ganforge.data import load_dataset  # noqa: E402
from ganforge.errors import ConfigError  # noqa: E402
from ganforge.train.loop import Trainer  # noqa: E402
from gpu_throughput import sync, time_steps  # noqa: E402
from quality import task_config  # noqa: E402
from quality_tasks import CONFIGS, TUTORIALS  # noqa: E402
from reference import count_flops  # noqa: E402


def config_of(config: str, mnist: Path, sets: list[str]):
    """The config as the quality suite resolves it for MNIST, with the CLI's ``--set``
    overrides on top (``Config.apply_overrides``: unknown keys and bad values are ConfigErrors)."""
    cfg = task_config("mnist", config, 0, "steps5000", mnist, Path("/tmp/gpu_conv_step"))
    cfg.apply_overrides(sets)
    cfg.validate()
    return cfg


def measure(config: str, cfg, steps: int, profile: int, top: int) -> dict:
    """Steps/s, FLOPs per step and (``profile`` > 0) the top kernels of ``config`` built as ``cfg``."""
    t = Trainer(cfg, load_dataset(cfg.data))
    rate = time_steps(t, windows=3, steps=steps, warmup=10)
    flops = count_flops(t.train_step, 1)
    kernels: list[tuple[str, float]] = []
    if profile:
        acts = [torch.profiler.ProfilerActivity.CPU]
        if t.device.type == "cuda":
            acts.append(torch.profiler.ProfilerActivity.CUDA)
        with torch.profiler.profile(activities=acts) as prof:
            for _ in range(profile):
                t.train_step()
            sync(t.device)
        # on a GPU only the kernels themselves (an aten op's device time is its kernels',
        # so counting both would count each kernel twice); on a CPU the ops
        cuda = t.device.type == "cuda"
        attr = "self_device_time_total" if cuda else "self_cpu_time_total"
        evs = [e for e in prof.key_averages() if getattr(e, attr, 0) > 0
               and (not cuda or e.device_type == torch.autograd.DeviceType.CUDA)]
        total = sum(getattr(e, attr) for e in evs) or 1.0
        evs.sort(key=lambda e: -getattr(e, attr))
        kernels = [(e.key[:70], 100.0 * getattr(e, attr) / total) for e in evs[:top]]
        kernels.append(("(device ms per step, profiled)", total / 1000.0 / profile))
    return {"config": config, "batch": cfg.train.batch_size, "model": cfg.model.name, "steps_s": rate,
            "gflop": flops / 1e9, "tflops": flops * rate / 1e12, "kernels": kernels}


def _steps_s(rate: float) -> str:
    """A step rate as the pages print it: one decimal from 10 steps/s up (114.2, as the GPU
    pages always had), three significant digits below, where one decimal hid a CPU's 0.867."""
    return f"{rate:.1f}" if rate >= 10 else f"{rate:.3g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist", type=Path, required=True)
    ap.add_argument("--configs", default="r3gan-mlp-b256-g1,dcgan-upconv-bn-after,r3gan-b256-g1-resnet,"
                                         "r3gan-b256-g1-upconv")
    ap.add_argument("--steps", type=int, default=20, help="steps per timed window")
    ap.add_argument("--profile", type=int, default=5, help="steps profiled (0: none)")
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="an override on every config, e.g. train.channels_last=true (repeatable)")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    cfgs = {}
    for c in a.configs.split(","):
        # the tutorial's cells are trained by benchmarks/tutorial_dcgan.py, not by a config
        if c in TUTORIALS or c not in CONFIGS:
            ap.error(f"{c!r} is not a config this script can build; choose from "
                     f"{', '.join(k for k in CONFIGS if k not in TUTORIALS)}")
        try:  # a bad --set is a one-line error before any training, not a traceback after it
            cfgs[c] = config_of(c, a.mnist, a.set)
        except ConfigError as e:
            ap.error(str(e))
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    lines = [f"# One step of the image configs on {dev}, one process alone", "",
             f"Command: `python benchmarks/gpu_conv_step.py --configs {a.configs} --steps {a.steps} "
             f"--profile {a.profile}{''.join(' --set ' + kv for kv in a.set)}`; torch {torch.__version__}. Steps/s: median of 3 windows of "
             f"{a.steps} steps after 10 warm-ups.", "",
             "| config | model | batch | G steps/s | GFLOP per step | TFLOP/s |", "|---|---|---|---|---|---|"]
    found = []
    for c, cfg in cfgs.items():
        r = measure(c, cfg, a.steps, a.profile, a.top)
        found.append(r)
        lines.append(f"| {c} | {r['model']} | {r['batch']} | {_steps_s(r['steps_s'])} | {r['gflop']:.1f} | {r['tflops']:.2f} |")
        print(lines[-1], flush=True)
    for r in found:
        if r["kernels"]:
            lines += ["", f"## {r['config']}: kernels by share of profiled time", "", "| kernel | % |", "|---|---|"]
            lines += [f"| `{k}` | {v:.1f} |" for k, v in r["kernels"]]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
