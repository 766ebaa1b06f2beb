"""The tutorial baseline: a plain PyTorch DCGAN of the kind widely copied from tutorials, as
the image issue describes it, written here without ganforge, for the quality suite to
train on the same data, seeds and budget as ganforge's rows (config ``tutorial-dcgan``).

Generator: Linear to 128x8x8 with batch norm, then two blocks of (upsample x2, 3x3 conv,
batch norm, LeakyReLU 0.2) at 128 and 64 channels, a last 3x3 conv to the image's channels
and tanh: 32 px (64 px data: 128x16x16 to start, as the tutorial's image-size option builds it;
smaller data is resized to 32 px, and the suite measures the samples against held-out images
resized the same way). Discriminator: four 3x3 stride-2 convolutions (16, 32, 64, 128 channels),
each followed by LeakyReLU 0.2 and dropout 0.25, and batch norm after all but the first;
a Linear to one logit. Loss: binary cross-entropy (the non-saturating generator loss).
Adam 2e-4, betas (0.5, 0.999), batch 64, one D step per G step, N(0, 0.02) weights.

``style="pytorch-gan"`` (config ``tutorial-dcgan-pg``) trains it as the most copied copy of
this design runs (eriklindernoren/PyTorch-GAN's dcgan.py), quirks kept: its batch norms after
the convolutions are built as ``BatchNorm2d(c, 0.8)``, which sets eps (not momentum) to 0.8;
its Linear layers keep PyTorch's own initialization; G steps first, and D then trains on
that same generated batch with its loss halved. Written from the design, not copied.
"""
from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

Z_DIM = 100


#: the batch norms' eps after the convolutions, by style (PyTorch-GAN's BatchNorm2d(c, 0.8))
EPS = {"plain": 1e-5, "pytorch-gan": 0.8}


def side_for(side: int) -> int:
    """The side the tutorial trains at for data of ``side`` px: 32, or 64 from 64 px on."""
    return 64 if side >= 64 else 32


class Generator(nn.Module):
    def __init__(self, channels: int, eps: float = 1e-5, side: int = 32) -> None:
        super().__init__()
        self.s0 = side // 4
        self.fc = nn.Linear(Z_DIM, 128 * self.s0 ** 2)
        self.bn = nn.BatchNorm2d(128)

        def up(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Upsample(scale_factor=2), nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout, eps=eps),
                    nn.LeakyReLU(0.2)]

        self.net = nn.Sequential(*up(128, 128), *up(128, 64), nn.Conv2d(64, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.bn(self.fc(z).view(-1, 128, self.s0, self.s0)))


class Discriminator(nn.Module):
    def __init__(self, channels: int, eps: float = 1e-5, side: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip((channels, 16, 32, 64), (16, 32, 64, 128))):
            layers += [nn.Conv2d(cin, cout, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout2d(0.25)]
            if i > 0:
                layers.append(nn.BatchNorm2d(cout, eps=eps))
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * (side // 16) ** 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def resize(x: torch.Tensor) -> torch.Tensor:
    """Images as the tutorial trains on them: bilinear to :func:`side_for` their side."""
    side = side_for(x.shape[-1])
    return x if x.shape[-1] == side else F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


def _init(m: nn.Module, linear: bool = True) -> None:
    if isinstance(m, nn.Conv2d) or (linear and isinstance(m, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def initialize(module: nn.Module, style: str = "plain") -> nn.Module:
    """``module`` (a :class:`Generator` or :class:`Discriminator`) initialized as ``style`` does:
    N(0, 0.02) weights, batch norm weights N(1, 0.02); PyTorch-GAN keeps its Linear layers' own."""
    return module.apply(lambda m: _init(m, linear=style == "plain"))


def train(x: torch.Tensor, seed: int, steps: int, every: int, judge: Callable[[nn.Module, int], dict],
          max_seconds: Optional[float] = None, batch: int = 64,
          style: str = "plain", nets: Optional[Callable[[int, int], tuple[nn.Module, nn.Module]]] = None,
          device: Optional[str] = None, ckpt: Optional[Path] = None) -> tuple[nn.Module, list[dict], int, float]:
    """Train on ``x`` (N, C, H, W) in [-1, 1], resized to :func:`side_for` its side;
    ``judge(G, step)`` every ``every`` steps (its time off the clock). Returns G, the curve,
    steps done, seconds. ``nets(channels, side)`` builds other networks (G taking
    :data:`Z_DIM` latents) for this loop to train instead: benchmarks/conv_gap.py's ablation.
    ``device``: where it trains, the GPU when there is one; the batch indices are drawn on
    the CPU either way, so a CPU run draws what it drew before the option existed.
    ``ckpt``: a file the loop saves itself to after each judged step and resumes from when it
    exists (networks, optimizers, random states, step, clock, curve), so a step-counted run
    cut off by the end of a session goes on where it was, drawing what it would have drawn."""
    torch.manual_seed(seed)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    x = resize(x).to(dev)
    side = x.shape[-1]
    plain = style == "plain"
    if nets is not None:
        g, d = nets(x.shape[1], side)
    else:
        g, d = Generator(x.shape[1], EPS[style], side), Discriminator(x.shape[1], EPS[style], side)
        initialize(g, style)
        initialize(d, style)
    g, d = g.to(dev), d.to(dev)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(batch, device=dev), torch.zeros(batch, device=dev)

    def d_step(real: torch.Tensor, fake: torch.Tensor, scale: float = 1.0) -> None:
        loss_d = scale * (bce(d(real), ones) + bce(d(fake.detach()), zeros))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()

    def g_step(fake: torch.Tensor) -> None:
        loss_g = bce(d(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    curve: list[dict] = []
    clock, step = 0.0, 0
    if ckpt is not None and ckpt.exists():
        kept = torch.load(ckpt, map_location=dev, weights_only=False)
        for obj, key in ((g, "g"), (d, "d"), (opt_g, "opt_g"), (opt_d, "opt_d")):
            obj.load_state_dict(kept[key])
        torch.set_rng_state(kept["rng"])
        if dev.type == "cuda" and kept.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(kept["cuda_rng"], dev)
        step, clock, curve = kept["step"], kept["clock"], kept["curve"]
    while step < steps and (max_seconds is None or clock < max_seconds):
        t0 = time.perf_counter()
        real = x[torch.randint(len(x), (batch,)).to(dev)]
        fake = g(torch.randn(batch, Z_DIM, device=dev))
        if plain:
            d_step(real, fake)
        g_step(fake)
        if not plain:  # PyTorch-GAN: D after G, on the batch G just trained on, loss halved
            d_step(real, fake, 0.5)
        step += 1
        if dev.type == "cuda":  # the clock counts the step's kernels, not only their launch
            torch.cuda.synchronize(dev)
        clock += time.perf_counter() - t0
        if step % every == 0 or step == steps:
            curve.append({"step": step, "time": round(clock, 4), **judge(g, step)})
            if ckpt is not None:  # after the judge, so the random state saved is the one the next step draws from
                save_atomic({"g": g.state_dict(), "d": d.state_dict(), "opt_g": opt_g.state_dict(),
                             "opt_d": opt_d.state_dict(), "rng": torch.get_rng_state(),
                             "cuda_rng": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
                             "step": step, "clock": clock, "curve": curve}, ckpt)
    return g, curve, step, clock


def save_atomic(obj: dict, path: Path) -> None:
    """torch.save to ``path`` through ganforge's atomic writer, so a run killed while saving
    keeps the previous checkpoint whole. Only this harness step touches ganforge: the loop's
    training does not."""
    from ganforge.train.checkpoint import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(obj, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
