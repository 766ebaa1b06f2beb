"""Exact 2-D mixtures: 8 Gaussians on a ring, a 5x5 grid, a Swiss roll.

Points are scaled so the data lies in [-1, 1]^2 (mode centres at most 0.8 from the
origin), and the mode centres and spread are recorded for the toy metrics.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ..errors import ConfigError
from ..registry import Registry
from .base import DATASETS, Dataset

#: toy sets by name: each draws n points from a torch.Generator
TOYS: Registry[Callable[[int, torch.Generator], torch.Tensor]] = Registry("toy")
_MODES: dict[str, Callable[[], tuple[torch.Tensor, float]]] = {}


def toy_modes(kind: str) -> tuple[torch.Tensor, float]:
    """Mode centres (M, 2) and per-coordinate standard deviation of a toy mixture."""
    if kind not in _MODES:
        raise ConfigError(f"toy {kind!r} has no discrete modes")
    return _MODES[kind]()


def _ring8() -> tuple[torch.Tensor, float]:
    ang = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    return 0.8 * torch.stack([ang.cos(), ang.sin()], 1).float(), 0.02


def _grid25() -> tuple[torch.Tensor, float]:
    g = torch.linspace(-0.8, 0.8, 5)
    return torch.cartesian_prod(g, g), 0.02


def _mixture(modes: Callable[[], tuple[torch.Tensor, float]]) -> Callable[[int, torch.Generator], torch.Tensor]:
    def draw(n: int, g: torch.Generator) -> torch.Tensor:
        centres, std = modes()
        idx = torch.randint(0, len(centres), (n,), generator=g)
        return centres[idx] + std * torch.randn(n, 2, generator=g)

    return draw


for _name, _modes, _help in (("ring8", _ring8, "8 Gaussians on a ring (modes and high-quality share measured)"),
                             ("grid25", _grid25, "25 Gaussians on a 5x5 grid (modes and high-quality share measured)")):
    _MODES[_name] = _modes
    TOYS.add(_name, _mixture(_modes), _help)


@TOYS.register("swissroll", help="a Swiss roll (measured by exact W1 to a fresh sample)")
def _swissroll(n: int, g: torch.Generator) -> torch.Tensor:
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g))
    pts = torch.stack([t * t.cos(), t * t.sin()], 1) / (4.5 * math.pi)
    return (0.8 * pts + 0.01 * torch.randn(n, 2, generator=g)).float()


def make_toy(kind: str, n: int, seed: int) -> torch.Tensor:
    """``n`` points of toy set ``kind``, the same for the same seed."""
    return TOYS.get(kind)(n, torch.Generator().manual_seed(seed))


@DATASETS.register("toy", help="a 2-D toy mixture (data.toy)")
def load_toy(cfg) -> Dataset:
    x = make_toy(cfg.toy, cfg.n_samples, cfg.seed)
    info: dict = {"toy": cfg.toy}
    if cfg.toy != "swissroll":
        centres, std = toy_modes(cfg.toy)
        info.update(centres=centres, std=std)
    return Dataset(name=f"toy-{cfg.toy}", x=x, info=info)
