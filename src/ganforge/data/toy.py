"""Exact 2-D mixtures: 8 Gaussians on a ring, a 5x5 grid, a Swiss roll.

Points are scaled so the data lies in [-1, 1]^2 (mode centres at most 0.8 from the
origin), and the mode centres and spread are recorded for the toy metrics.
"""
from __future__ import annotations

import math

import torch

from ..errors import ConfigError
from .base import DATASETS, Dataset

TOYS = ("ring8", "grid25", "swissroll")


def toy_modes(kind: str) -> tuple[torch.Tensor, float]:
    """Mode centres (M, 2) and per-coordinate standard deviation of a toy mixture."""
    if kind == "ring8":
        ang = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
        return 0.8 * torch.stack([ang.cos(), ang.sin()], 1).float(), 0.02
    if kind == "grid25":
        g = torch.linspace(-0.8, 0.8, 5)
        return torch.cartesian_prod(g, g), 0.02
    raise ConfigError(f"toy {kind!r} has no discrete modes")


def make_toy(kind: str, n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if kind in ("ring8", "grid25"):
        centres, std = toy_modes(kind)
        idx = torch.randint(0, len(centres), (n,), generator=g)
        return centres[idx] + std * torch.randn(n, 2, generator=g)
    if kind == "swissroll":
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g))
        pts = torch.stack([t * t.cos(), t * t.sin()], 1) / (4.5 * math.pi)
        return (0.8 * pts + 0.01 * torch.randn(n, 2, generator=g)).float()
    raise ConfigError(f"unknown toy {kind!r}; choose one of: {', '.join(TOYS)}")


@DATASETS.register("toy")
def load_toy(cfg) -> Dataset:
    x = make_toy(cfg.toy, cfg.n_samples, cfg.seed)
    info: dict = {"toy": cfg.toy}
    if cfg.toy != "swissroll":
        centres, std = toy_modes(cfg.toy)
        info.update(centres=centres, std=std)
    return Dataset(name=f"toy-{cfg.toy}", x=x, info=info)
