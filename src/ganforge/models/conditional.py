"""Class-conditional wrappers: label embedding concatenated to z in G (cGAN), and the
projection discriminator in D (Miyato & Koyama 2018): D(x, y) = psi(phi(x)) + <e_y, phi(x)>."""
from __future__ import annotations

import torch
import torch.nn as nn


class ConditionalGenerator(nn.Module):
    def __init__(self, base: nn.Module, num_classes: int, embed_dim: int) -> None:
        super().__init__()
        self.base = base
        self.embed = nn.Embedding(num_classes, embed_dim)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.base(torch.cat([z, self.embed(y)], 1))


class ProjectionDiscriminator(nn.Module):
    def __init__(self, base: nn.Module, num_classes: int, spectral: bool) -> None:
        super().__init__()
        self.body = base.net[:-1]
        self.head = base.net[-1]
        emb = nn.Embedding(num_classes, self.head.in_features)
        nn.init.normal_(emb.weight, 0.0, 0.02)
        self.embed = nn.utils.parametrizations.spectral_norm(emb) if spectral else emb

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        return self.head(h).squeeze(1) + (self.embed(y) * h).sum(1)
