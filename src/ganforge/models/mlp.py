"""Fully connected G and D (the 256-512-1024 / 512-256 networks of the classic tutorial)."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from .layers import activation, d_norm_wrap, g_output, std_head


class MLPGenerator(nn.Module):
    """z (N, z_in) -> sample of ``out_shape``; ``out`` tanh keeps it in [-1, 1]."""

    def __init__(self, z_in: int, out_shape: tuple[int, ...], hidden: list[int], act: str, slope: float,
                 batch_norm: bool, out: str = "tanh") -> None:
        super().__init__()
        self.out_shape = tuple(out_shape)
        layers: list[nn.Module] = []
        d = z_in
        for h in hidden:
            layers.append(nn.Linear(d, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(activation(act, slope))
            d = h
        layers += [nn.Linear(d, math.prod(out_shape)), g_output(out)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """sample -> one logit per example, shape (N,). ``net[-1]`` is the output layer; with
    ``mbstd`` > 0 a :class:`MinibatchStd` over groups of that size comes just before it."""

    def __init__(self, in_shape: tuple[int, ...], hidden: list[int], act: str, slope: float, norm: str,
                 dropout: float = 0.0, mbstd: int = 0) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        d = math.prod(in_shape)
        for i, h in enumerate(hidden):
            layers.append(d_norm_wrap(nn.Linear(d, h), norm))
            if norm == "layer" and i > 0:
                layers.append(nn.LayerNorm(h))
            elif norm == "batch" and i > 0:
                layers.append(nn.BatchNorm1d(h))
            layers.append(activation(act, slope))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            if norm == "batch-after" and i > 0:
                layers.append(nn.BatchNorm1d(h))
            d = h
        layers += std_head(mbstd)
        layers.append(d_norm_wrap(nn.Linear(d + (mbstd > 0), 1), norm))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
