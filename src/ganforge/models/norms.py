"""Normalization choices for the discriminator."""
from __future__ import annotations

import torch.nn as nn

from ..errors import ConfigError

D_NORMS = ("none", "layer", "spectral")
G_NORMS = ("batch", "none")


def d_norm_wrap(layer: nn.Module, norm: str) -> nn.Module:
    """Spectral norm wraps the layer; other choices add separate layers elsewhere."""
    if norm not in D_NORMS:
        raise ConfigError(f"model.d_norm must be one of {', '.join(D_NORMS)}, got {norm!r}")
    return nn.utils.parametrizations.spectral_norm(layer) if norm == "spectral" else layer
