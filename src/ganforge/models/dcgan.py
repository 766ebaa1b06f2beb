"""DCGAN generator and critic for 8/16/28/32/64 px and any channel count.

Layout (28 px, width w): G: z -> Linear -> (2w, 7, 7) -> ConvT -> (w, 14, 14) -> ConvT
-> (C, 28, 28) -> tanh. D mirrors it with stride-2 convolutions and a final Linear.
Other sizes start from 4x4 and double until the target size. With w = 64 and 28 px
this is exactly the reference loop's `dcgan28` (../shared/bench/naive_wgan_gp.py), so
speed comparisons are like for like.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..errors import ConfigError
from .layers import activation, g_output, strided_critic

SIZES = {8: (4, 1), 16: (4, 2), 28: (7, 2), 32: (4, 3), 64: (4, 4)}  # size -> (start side, n_up)


def _plan(size: int) -> tuple[int, int]:
    if size not in SIZES:
        raise ConfigError(f"model dcgan supports image sizes {sorted(SIZES)}, got {size} px (set data.size)")
    return SIZES[size]


class DCGANGenerator(nn.Module):
    def __init__(self, z_in: int, channels: int, size: int, width: int, batch_norm: bool, act: str = "relu",
                 slope: float = 0.2, out: str = "tanh") -> None:
        super().__init__()
        s0, n_up = _plan(size)
        ch = [width * 2 ** (n_up - 1 - i) for i in range(n_up)]  # e.g. [128, 64]
        self.fc = nn.Linear(z_in, ch[0] * s0 * s0)
        self.bn0 = nn.BatchNorm1d(ch[0] * s0 * s0) if batch_norm else nn.Identity()
        self.start = (ch[0], s0, s0)
        layers: list[nn.Module] = [activation(act, slope)]
        for i in range(n_up):
            last = i == n_up - 1
            cout = channels if last else ch[i + 1]
            layers.append(nn.ConvTranspose2d(ch[i], cout, 4, 2, 1))
            if not last:
                if batch_norm:
                    layers.append(nn.BatchNorm2d(cout))
                layers.append(activation(act, slope))
        layers.append(g_output(out))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.bn0(self.fc(z))
        # activation (first of self.net) after the view: same math as the reference's order
        return self.net(h.view(z.shape[0], *self.start))


class DCGANDiscriminator(nn.Module):
    """``net[-1]`` is the output Linear; ``net[:-1]`` gives the features (for projection)."""

    def __init__(self, channels: int, size: int, width: int, slope: float, norm: str, act: str = "leakyrelu",
                 dropout: float = 0.0, mbstd: int = 0) -> None:
        super().__init__()
        s0, n_down = _plan(size)
        self.net = strided_critic(channels, [width * 2 ** i for i in range(n_down)], 4, s0, norm, act, slope, dropout,
                                  mbstd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
