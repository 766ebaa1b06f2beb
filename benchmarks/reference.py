"""The reference loop (../shared/bench/naive_wgan_gp.py), importable by the benchmarks.

`naive_wgan_gp.py` keeps its training step inside ``main()``; the benchmarks that need the
step itself (time to quality, FLOP counts) use :func:`reference_step`, which takes the
script's models and reproduces its 15-line step verbatim. Speed figures still come from
running the script itself (:func:`script_it_s`), so the replica only has to be the same
math, which the time-to-quality benchmark checks by timing both in one run."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable, Optional

import torch

from ganforge.config import Config

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def naive_module() -> ModuleType:
    """naive_wgan_gp.py as a module (for its ``build`` and ``load_mnist``)."""
    spec = importlib.util.spec_from_file_location("naive_wgan_gp", BENCH / "naive_wgan_gp.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"reference loop not found: {BENCH / 'naive_wgan_gp.py'}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def script_it_s(arch: str, mnist: Path, iters: int, warmup: int = 3) -> dict:
    """Run the reference script itself; its JSON line (g_iters_per_s, critic_samples_per_s)."""
    out = subprocess.run([sys.executable, str(BENCH / "naive_wgan_gp.py"), "--arch", arch, "--iters", str(iters),
                          "--warmup", str(warmup), "--mnist", str(mnist)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


#: the probe's length: about 7 s of training (10 s with start-up) alone on the 2-core CPU, short beside a 10-minute cell
PROBE_ITERS = 100


def machine_probe(mnist: Path) -> float:
    """The reference loop's MLP (``mlp28``) in generator iterations a second, run as a
    subprocess with this process's environment (so its thread count is the cell's).
    Recorded beside every time-budget cell of the quality suite: how many steps a cell
    makes in its CPU minutes depends on the machine's speed that day, and this figure,
    measured seconds before the cell, tells a slow day from slower code."""
    return float(script_it_s("mlp28", mnist, PROBE_ITERS, warmup=10)["g_iters_per_s"])


def reference_step(arch: str, data: torch.Tensor, seed: int, batch: int = 64,
                   z_dim: int = 64) -> tuple[Callable[[], None], torch.nn.Module]:
    """(one generator iteration of the reference loop, its generator), seeded like the script."""
    naive = naive_module()
    torch.manual_seed(seed)
    g, d, _ = naive.build(arch, z_dim)
    opt_g = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(d.parameters(), 1e-4, betas=(0.5, 0.9))

    # --- verbatim from naive_wgan_gp.py main() (a.batch -> batch, a.z_dim -> z_dim) ---
    def gradient_penalty(real, fake):
        eps = torch.rand(real.size(0), 1, 1, 1)
        x = (eps * real + (1 - eps) * fake).requires_grad_(True)
        grad = torch.autograd.grad(d(x).sum(), x, create_graph=True)[0]
        return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()

    def step():
        for _ in range(5):
            real = data[torch.randint(0, len(data), (batch,))]
            with torch.no_grad():
                fake = g(torch.randn(batch, z_dim))
            loss_d = d(fake).mean() - d(real).mean() + 10 * gradient_penalty(real, fake)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        loss_g = -d(g(torch.randn(batch, z_dim))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    # --- end of the reference step ---

    return step, g


def ganforge_config(arch: str, mnist: Path, extra: list[str], holdout: int = 0, seed: int = 0) -> Config:
    """ganforge's config for the reference loop's model and math (WGAN-GP, lambda 10,
    Adam(1e-4, 0.5, 0.9), n_critic 5, batch 64, z 64; ``mlp28`` or ``dcgan28``), plus
    ``extra`` dotted overrides."""
    model = ({"name": "mlp", "z_dim": 64, "g_hidden": [256, 512, 1024], "d_hidden": [512, 256], "g_norm": "none"}
             if arch == "mlp28" else {"name": "dcgan", "z_dim": 64, "width": 64})
    cfg = Config.from_dict({
        "data": {"name": "mnist", "dir": str(mnist), "holdout": holdout},
        "model": model,
        "train": {"batch_size": 64, "n_critic": 5, "device": "cpu", "tensorboard": False, "seed": seed},
    })
    cfg.apply_overrides(extra)
    cfg.validate()
    return cfg


def count_flops(step: Callable[[], object], n: int = 1, only: Optional[Iterable[str]] = None) -> float:
    """FLOPs per call of ``step`` (mean of ``n`` calls), summed over every op torch knows a
    formula for (torch.utils.flop_counter's), or over the ops named in ``only``. Counted
    from dispatch rather than with FlopCounterMode, whose module tracking autograd.grad
    (the penalty) rejects."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    names = set(only) if only is not None else None

    class Count(TorchDispatchMode):
        flops = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None and (names is None or func._overloadpacket.__name__ in names):
                self.flops += formula(*args, **kwargs, out_val=out)
            return out

    with Count() as c:
        for _ in range(n):
            step()
    return float(c.flops) / n
