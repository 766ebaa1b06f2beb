"""Building blocks the architectures share: activations, D normalization, initialization."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError

D_NORMS = ("none", "layer", "spectral")
G_NORMS = ("batch", "none")
ACTIVATIONS = ("auto", "relu", "leakyrelu", "tanh", "silu")
INITS = ("default", "normal", "xavier", "kaiming", "orthogonal")


class _PiecewiseLinearFn(torch.autograd.Function):
    """LeakyReLU (ReLU at slope 0) whose backward is built from the *detached* output.

    The gradient penalty differentiates D twice. With torch's own ReLU/LeakyReLU the
    second backward also sends a gradient of zeros (the derivative of a 0/1 mask) back
    through D's whole forward graph: one more full backward of every layer below, on
    zeros, that changes nothing. Building the first backward from the detached output
    leaves that path out of the graph; every gradient is bit for bit the same."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, slope: float) -> torch.Tensor:  # type: ignore[override]
        out = F.leaky_relu(x, slope) if slope else F.relu(x)
        ctx.save_for_backward(out)
        ctx.slope = slope
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (out,) = ctx.saved_tensors
        # differentiable in grad (double backward works), constant in the activation
        return torch.ops.aten.leaky_relu_backward(grad, out.detach(), ctx.slope, True), None


class PiecewiseLinear(nn.Module):
    """ReLU (``slope=0``) or LeakyReLU with the same values and gradients as torch's, and a
    cheaper double backward (see :class:`_PiecewiseLinearFn`). No parameters or buffers,
    so checkpoints are interchangeable with ``nn.LeakyReLU`` models."""

    def __init__(self, slope: float = 0.0) -> None:
        super().__init__()
        if slope < 0:
            raise ConfigError(f"model.slope must be >= 0, got {slope}")
        self.slope = float(slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _PiecewiseLinearFn.apply(x, self.slope)

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


def activation(name: str, slope: float = 0.2) -> nn.Module:
    """An activation module by name. ReLU and LeakyReLU are :class:`PiecewiseLinear`."""
    if name == "relu":
        return PiecewiseLinear(0.0)
    if name == "leakyrelu":
        return PiecewiseLinear(slope)
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
