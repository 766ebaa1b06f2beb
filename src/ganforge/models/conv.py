"""Convolutional families for 8/16/28/32/64/128 px and any channel count.

``upconv``: the DCGAN family without checkerboard output. G: z -> Linear -> (c, s0, s0),
then per doubling an upsample (nearest) and a 3x3 convolution with batch norm and an
activation, and a last 3x3 convolution at full resolution -> tanh: every output pixel is
computed by the same kernel, so no stride pattern shows (a stride-2 transposed convolution
straight to the pixels gives each pixel of a 2x2 cell its own kernel, the checkerboard).
D: 3x3 stride-2 convolutions down to 2x2 (or 4x4 from 28 px), normalization a choice
(``model.d_norm``), dropout ``model.d_dropout``, then a Linear. At 32 px and width 64 the
widths are the common tutorial DCGAN's (G 128-128-64, D 16-32-64-128).

``resnet``: residual networks in R3GAN's spirit (Huang et al. 2024): no normalization, a
stack of ``model.blocks`` residual blocks per resolution, bilinear resampling between
resolutions, and the fix-up initialization that keeps a deep residual stack stable
without normalization: each block's last convolution starts at zero (every block starts
as the identity) and its first is scaled by L^(-1/4), L the number of blocks.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError
from .layers import activation, g_output, std_head, strided_critic

#: image side -> the side the generator starts from (a power-of-two ladder up to the size)
START = {8: 4, 16: 4, 28: 7, 32: 4, 64: 4, 128: 4}
UP_START = {8: 4, 16: 8, 28: 7, 32: 8, 64: 8, 128: 8}  # upconv: the tutorial's 8x8 start at 32 px


def _ups(size: int, start: dict[int, int], family: str) -> tuple[int, int]:
    if size not in start:
        raise ConfigError(f"model {family} supports image sizes {sorted(start)}, got {size} px (set data.size)")
    s0 = start[size]
    return s0, int(round(math.log2(size // s0)))


def _down_sides(size: int, n: int) -> int:
    """The side after ``n`` 3x3 stride-2 convolutions with padding 1."""
    for _ in range(n):
        size = (size + 1) // 2
    return size


class UpConvGenerator(nn.Module):
    def __init__(self, z_in: int, channels: int, size: int, width: int, batch_norm: bool, act: str,
                 slope: float, out: str = "tanh") -> None:
        super().__init__()
        s0, n_up = _ups(size, UP_START, "upconv")
        ch = [width * 2 ** max(n_up - 1 - i, 0) for i in range(n_up)]  # 32 px, w 64: [128, 64]
        self.start = (ch[0], s0, s0)
        self.fc = nn.Linear(z_in, ch[0] * s0 * s0)
        self.bn0 = nn.BatchNorm1d(ch[0] * s0 * s0) if batch_norm else nn.Identity()
        layers: list[nn.Module] = []
        cin = ch[0]
        for cout in ch:
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(activation(act, slope))
            cin = cout
        layers += [nn.Conv2d(cin, channels, 3, 1, 1), g_output(out)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.bn0(self.fc(z)).view(z.shape[0], *self.start))


class UpConvDiscriminator(nn.Module):
    """``net[-1]`` is the output Linear; ``net[:-1]`` gives the features (for projection)."""

    def __init__(self, channels: int, size: int, width: int, slope: float, norm: str, act: str,
                 dropout: float, mbstd: int = 0) -> None:
        super().__init__()
        _ups(size, UP_START, "upconv")
        n_down = max(2, int(math.log2(size)) - 1)  # down to 2x2 (28 px: 4x4 -> 2x2 as well)
        base = max(width // 4, 8)
        self.net = strided_critic(channels, [base * 2 ** i for i in range(n_down)], 3, _down_sides(size, n_down),
                                  norm, act, slope, dropout, mbstd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class ResidualBlock(nn.Module):
    """x + conv(act(conv(act(x)))): 3x3 convolutions, no normalization; the second starts at
    zero and the first is scaled by ``scale`` (fix-up)."""

    def __init__(self, ch: int, act: str, slope: float, scale: float) -> None:
        super().__init__()
        self.act1, self.act2 = activation(act, slope), activation(act, slope)
        self.conv1 = nn.Conv2d(ch, ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1)
        with torch.no_grad():
            self.conv1.weight.mul_(scale)
            nn.init.zeros_(self.conv2.weight)
            nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.act2(self.conv1(self.act1(x))))


def _res_widths(width: int, n: int) -> list[int]:
    """Channels per resolution, coarse to fine: 2w at the coarse end, halving to w."""
    return [width * (2 if i < n - 1 else 1) for i in range(n)]


class ResNetGenerator(nn.Module):
    def __init__(self, z_in: int, channels: int, size: int, width: int, blocks: int, act: str, slope: float,
                 out: str = "tanh") -> None:
        super().__init__()
        s0, n_up = _ups(size, START, "resnet")
        ch = _res_widths(width, n_up + 1)
        scale = (blocks * (n_up + 1)) ** -0.25
        self.start = (ch[0], s0, s0)
        self.fc = nn.Linear(z_in, ch[0] * s0 * s0)
        self.act = activation(act, slope)
        stages: list[nn.Module] = []
        for i, c in enumerate(ch):
            mods: list[nn.Module] = []
            if i > 0:  # bilinear up, then a 1x1 convolution to this resolution's width
                mods += [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)]
                if c != ch[i - 1]:
                    mods.append(nn.Conv2d(ch[i - 1], c, 1))
            mods += [ResidualBlock(c, act, slope, scale) for _ in range(blocks)]
            stages.append(nn.Sequential(*mods))
        self.stages = nn.Sequential(*stages)
        self.out = nn.Sequential(activation(act, slope), nn.Conv2d(ch[-1], channels, 3, 1, 1), g_output(out))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.stages(self.act(self.fc(z)).view(z.shape[0], *self.start)))


class _Down(nn.Module):
    """Bilinear downsampling by 2 (a 2x2 average: linear, so the penalties' double backward
    goes through it); an odd side keeps its last row and column (ceil)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2, ceil_mode=True)


class ResNetDiscriminator(nn.Module):
    """``net[-1]`` is the output Linear; ``net[:-1]`` gives the features (for projection)."""

    def __init__(self, channels: int, size: int, width: int, blocks: int, act: str, slope: float,
                 mbstd: int = 0) -> None:
        super().__init__()
        s0, n_down = _ups(size, START, "resnet")
        ch = list(reversed(_res_widths(width, n_down + 1)))  # fine to coarse
        scale = (blocks * (n_down + 1)) ** -0.25
        layers: list[nn.Module] = [nn.Conv2d(channels, ch[0], 3, 1, 1)]
        for i, c in enumerate(ch):
            if i > 0:  # 1x1 convolution to this resolution's width, then down
                if c != ch[i - 1]:
                    layers.append(nn.Conv2d(ch[i - 1], c, 1))
                layers.append(_Down())
            layers += [ResidualBlock(c, act, slope, scale) for _ in range(blocks)]
        layers += [activation(act, slope)] + std_head(mbstd)
        layers += [nn.Flatten(), nn.Linear((ch[-1] + (mbstd > 0)) * s0 * s0, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
