"""Generator / discriminator builders behind a registry. No training code here."""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn as nn

from ..config import ModelConfig
from ..errors import ConfigError
from ..registry import Registry, check_choice
from .conditional import ConditionalGenerator, ProjectionDiscriminator
from .conv import ResNetDiscriminator, ResNetGenerator, UpConvDiscriminator, UpConvGenerator
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .layers import ACTIVATIONS, D_NORMS, G_NORMS, G_OUTPUTS, INITS, init_weights, resolve_act, spectral_all
from .mlp import MLPDiscriminator, MLPGenerator

Builder = Callable[[ModelConfig, tuple[int, ...], int], tuple[nn.Module, nn.Module]]
MODELS: Registry[Builder] = Registry("model")
LATENTS = Registry.of("latent", {"normal": "standard normal z", "uniform": "uniform z on [-1, 1]"})


@MODELS.register("mlp", help="fully connected G and D (any data shape)")
def build_mlp(cfg: ModelConfig, shape: tuple[int, ...], z_in: int) -> tuple[nn.Module, nn.Module]:
    g = MLPGenerator(z_in, shape, cfg.g_hidden, resolve_act(cfg.g_act, "leakyrelu"), cfg.slope, cfg.g_norm == "batch",
                     cfg.g_out)
    d = MLPDiscriminator(shape, cfg.d_hidden, resolve_act(cfg.d_act, "leakyrelu"), cfg.slope, cfg.d_norm,
                         cfg.d_dropout, cfg.d_mbstd)
    return g, d


@MODELS.register("dcgan", help="DCGAN convolutions (square images of 8, 16, 28, 32 or 64 px)")
def build_dcgan(cfg: ModelConfig, shape: tuple[int, ...], z_in: int) -> tuple[nn.Module, nn.Module]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(f"model dcgan needs square images, but the data has shape {shape}; use model.name=mlp")
    c, s = shape[0], shape[1]
    g = DCGANGenerator(z_in, c, s, cfg.width, cfg.g_norm == "batch", resolve_act(cfg.g_act, "relu"), cfg.slope,
                       cfg.g_out)
    d = DCGANDiscriminator(c, s, cfg.width, cfg.slope, cfg.d_norm, resolve_act(cfg.d_act, "leakyrelu"),
                           cfg.d_dropout, cfg.d_mbstd)
    return g, d


def _square(shape: tuple[int, ...], name: str) -> tuple[int, int]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(f"model {name} needs square images, but the data has shape {shape}; use model.name=mlp")
    return shape[0], shape[1]


@MODELS.register("upconv", help="DCGAN family without checkerboard: upsample + 3x3 conv, last conv at full "
                 "resolution (8-128 px)")
def build_upconv(cfg: ModelConfig, shape: tuple[int, ...], z_in: int) -> tuple[nn.Module, nn.Module]:
    c, s = _square(shape, "upconv")
    g = UpConvGenerator(z_in, c, s, cfg.width, cfg.g_norm == "batch", resolve_act(cfg.g_act, "leakyrelu"), cfg.slope,
                        cfg.g_out)
    d = UpConvDiscriminator(c, s, cfg.width, cfg.slope, cfg.d_norm, resolve_act(cfg.d_act, "leakyrelu"), cfg.d_dropout,
                            cfg.d_mbstd)
    return g, d


@MODELS.register("resnet", help="residual G and D without normalization, fix-up init, bilinear resampling "
                 "(R3GAN's spirit; 8-128 px; model.blocks per resolution)")
def build_resnet(cfg: ModelConfig, shape: tuple[int, ...], z_in: int) -> tuple[nn.Module, nn.Module]:
    c, s = _square(shape, "resnet")
    g = ResNetGenerator(z_in, c, s, cfg.width, cfg.blocks, resolve_act(cfg.g_act, "leakyrelu"), cfg.slope, cfg.g_out)
    d = ResNetDiscriminator(c, s, cfg.width, cfg.blocks, resolve_act(cfg.d_act, "leakyrelu"), cfg.slope, cfg.d_mbstd)
    return g, d


def check_model_config(cfg: ModelConfig) -> None:
    """ConfigError for any model name or choice nothing knows."""
    MODELS.get(cfg.name)
    for key, value, choices in [("model.g_norm", cfg.g_norm, G_NORMS), ("model.d_norm", cfg.d_norm, D_NORMS),
                                ("model.latent", cfg.latent, LATENTS), ("model.g_act", cfg.g_act, ACTIVATIONS),
                                ("model.d_act", cfg.d_act, ACTIVATIONS), ("model.init", cfg.init, INITS),
                                ("model.g_out", cfg.g_out, G_OUTPUTS)]:
        check_choice(key, value, choices)


def build_models(cfg: ModelConfig, shape: tuple[int, ...], num_classes: int = 0) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) for examples of ``shape``; class-conditional when ``cfg.conditional``."""
    check_model_config(cfg)
    if cfg.conditional and num_classes < 2:
        raise ConfigError("model.conditional needs labelled data (digits, mnist, or an image folder "
                          "with one subfolder per class)")
    z_in = cfg.z_dim + (cfg.embed_dim if cfg.conditional else 0)
    g, d = MODELS.get(cfg.name)(cfg, shape, z_in)
    if cfg.g_spectral:
        spectral_all(g)
    init_weights(g, cfg.init)
    init_weights(d, cfg.init)
    if cfg.conditional:
        g = ConditionalGenerator(g, num_classes, cfg.embed_dim)
        d = ProjectionDiscriminator(d, num_classes, cfg.d_norm == "spectral")
    return g, d


def sample_latent(n: int, z_dim: int, kind: str, device: torch.device | str = "cpu",
                  generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Latent batch: standard normal, or uniform on [-1, 1]."""
    if kind == "normal":
        return torch.randn(n, z_dim, device=device, generator=generator)
    return torch.rand(n, z_dim, device=device, generator=generator) * 2 - 1


__all__ = ["MODELS", "build_models", "check_model_config", "sample_latent", "LATENTS"]
