"""Time of one optimizer update of a preset's G and D with each of torch's kernels.

``optim.{g,d}.impl`` picks the kernel (auto: fused where torch has one). This builds the
preset's G and D for its data's shape (no data is read), gives every weight a seeded random
gradient, and times ``step()`` of G's and D's optimizers together with each implementation:
median milliseconds over ``--repeats`` updates after a warm-up, and the largest difference of
the weights from the per-parameter loop's after the same updates. Run it alone: another busy
process on these cores changes the times several-fold.

    python benchmarks/optim_impl.py --preset r3gan-mlp-stacked-lazy --shape 3 28 28
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path
from typing import Optional

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from study import emit_table, machine_name  # noqa: E402
from ganforge.config import Config, load_preset  # noqa: E402
from ganforge.errors import ConfigError  # noqa: E402
from ganforge.models import build_models  # noqa: E402
from ganforge.optim import OPTIMIZERS  # noqa: E402

IMPLS = ("loop", "foreach", "fused")


def run(cfg: Config, shape: tuple[int, ...], impl: str, repeats: int, warmup: int = 5) -> tuple[float, torch.Tensor]:
    """Median ms of one update of G's and D's optimizers with ``impl``, and the weights after."""
    torch.manual_seed(0)
    g, d = build_models(cfg.model, shape)
    nets = [(g, copy.deepcopy(cfg.optim.g)), (d, copy.deepcopy(cfg.optim.d))]
    opts = []
    for net, oc in nets:
        oc.impl = impl
        opts.append(OPTIMIZERS.get(oc.name)(net.parameters(), oc))
    params = [p for net, _ in nets for p in net.parameters()]
    gen = torch.Generator().manual_seed(1)
    grads = [torch.randn(p.shape, generator=gen) for p in params]
    for p, gr in zip(params, grads):
        p.grad = gr
    times = []
    for i in range(warmup + repeats):
        t = time.perf_counter()
        for o in opts:
            o.step()
        if i >= warmup:
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3, torch.cat([p.detach().flatten() for p in params])


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="r3gan-mlp-stacked-lazy")
    ap.add_argument("--shape", type=int, nargs="+", default=[3, 28, 28], help="one example's shape (C H W, or D)")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    a = ap.parse_args(argv)
    try:
        cfg = Config.from_dict(load_preset(a.preset))
    except ConfigError as e:
        print(f"optim_impl: {e}", file=sys.stderr)
        return 2
    if a.repeats < 1 or a.threads < 1 or any(s < 1 for s in a.shape):
        print("optim_impl: need --repeats >= 1, --threads >= 1 and a positive --shape", file=sys.stderr)
        return 2
    torch.set_num_threads(a.threads)
    res = {impl: run(cfg, tuple(a.shape), impl, a.repeats) for impl in IMPLS}
    n = res["loop"][1].numel()
    lines = [f"Command: `python benchmarks/optim_impl.py --preset {a.preset} --shape {' '.join(map(str, a.shape))} "
             f"--repeats {a.repeats} --threads {a.threads}`. Machine: {machine_name()}; {a.threads} threads; "
             f"{n:,} weights in G and D ({cfg.optim.g.name} and {cfg.optim.d.name}).", "",
             "| impl | ms per update of G and D, median | ratio to loop | largest weight difference from loop |",
             "|---|---|---|---|"]
    for impl, (ms, w) in res.items():
        diff = (w - res["loop"][1]).abs().max().item()
        lines.append(f"| {impl} | {ms:.2f} | {res['loop'][0] / ms:.2f}x | {diff:.1e} |")
    emit_table(lines, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
