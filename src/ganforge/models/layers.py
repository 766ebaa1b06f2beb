"""Building blocks the architectures share: activations, D normalization, initialization."""
from __future__ import annotations

import torch.nn as nn

from ..errors import ConfigError

D_NORMS = ("none", "layer", "spectral")
G_NORMS = ("batch", "none")
ACTIVATIONS = ("auto", "relu", "leakyrelu", "tanh", "silu")
INITS = ("default", "normal", "xavier", "kaiming", "orthogonal")


def activation(name: str, slope: float = 0.2) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leakyrelu":
        return nn.LeakyReLU(slope)
    if name == "tanh":
        return nn.Tanh()
    if name == "silu":
        return nn.SiLU()
    raise ConfigError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")


def resolve_act(name: str, default: str) -> str:
    return default if name == "auto" else name


def d_norm_wrap(layer: nn.Module, norm: str) -> nn.Module:
    """Spectral norm wraps the layer; other choices add separate layers elsewhere."""
    if norm not in D_NORMS:
        raise ConfigError(f"model.d_norm must be one of {', '.join(D_NORMS)}, got {norm!r}")
    return nn.utils.parametrizations.spectral_norm(layer) if norm == "spectral" else layer


def spectral_all(module: nn.Module) -> nn.Module:
    """Spectral norm on every Linear / conv layer of ``module`` (for G)."""
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            setattr(module, name, nn.utils.parametrizations.spectral_norm(child))
        else:
            spectral_all(child)
    return module


def init_weights(module: nn.Module, scheme: str) -> None:
    """DCGAN's N(0, 0.02), Xavier, Kaiming or orthogonal init of Linear/conv weights; biases 0.
    ``default`` keeps PyTorch's own initialization."""
    if scheme == "default":
        return
    if scheme not in INITS:
        raise ConfigError(f"model.init must be one of {', '.join(INITS)}, got {scheme!r}")
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            w = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            if scheme == "normal":
                nn.init.normal_(w, 0.0, 0.02)
            elif scheme == "xavier":
                nn.init.xavier_uniform_(w)
            elif scheme == "kaiming":
                nn.init.kaiming_normal_(w, a=0.2, nonlinearity="leaky_relu")
            else:
                nn.init.orthogonal_(w)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and scheme == "normal":
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
