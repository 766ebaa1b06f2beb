"""Generator / discriminator builders behind a registry. No training code here."""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn as nn

from ..config import ModelConfig
from ..errors import ConfigError
from ..registry import Registry
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator
from .norms import D_NORMS, G_NORMS

Builder = Callable[[ModelConfig, tuple[int, ...]], tuple[nn.Module, nn.Module]]
MODELS: Registry[Builder] = Registry("model")


@MODELS.register("mlp")
def build_mlp(cfg: ModelConfig, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    g = MLPGenerator(cfg.z_dim, shape, cfg.g_hidden, cfg.slope, cfg.g_norm == "batch")
    d = MLPDiscriminator(shape, cfg.d_hidden, cfg.slope, cfg.d_norm)
    return g, d


@MODELS.register("dcgan")
def build_dcgan(cfg: ModelConfig, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(f"model dcgan needs square images, but the data has shape {shape}; use model.name=mlp")
    c, s = shape[0], shape[1]
    g = DCGANGenerator(cfg.z_dim, c, s, cfg.width, cfg.g_norm == "batch")
    d = DCGANDiscriminator(c, s, cfg.width, cfg.slope, cfg.d_norm)
    return g, d


def build_models(cfg: ModelConfig, shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) for examples of ``shape``."""
    if cfg.g_norm not in G_NORMS:
        raise ConfigError(f"model.g_norm must be one of {', '.join(G_NORMS)}, got {cfg.g_norm!r}")
    if cfg.d_norm not in D_NORMS:
        raise ConfigError(f"model.d_norm must be one of {', '.join(D_NORMS)}, got {cfg.d_norm!r}")
    if cfg.latent not in LATENTS:
        raise ConfigError(f"model.latent must be one of {', '.join(LATENTS)}, got {cfg.latent!r}")
    return MODELS.get(cfg.name)(cfg, shape)


LATENTS = ("normal", "uniform")


def sample_latent(n: int, z_dim: int, kind: str, device: torch.device | str = "cpu",
                  generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Latent batch: standard normal, or uniform on [-1, 1]."""
    if kind == "normal":
        return torch.randn(n, z_dim, device=device, generator=generator)
    return torch.rand(n, z_dim, device=device, generator=generator) * 2 - 1


__all__ = ["MODELS", "build_models", "sample_latent"]
