"""Building blocks the architectures share: activations, D normalization, initialization."""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError
from ..registry import Registry

D_NORMS = Registry.of("D normalization", {
    "batch": "batch norm after each hidden layer of D but the first (DCGAN); real and generated batches "
             "go through D apart; not with a gradient penalty",
    "batch-after": "batch norm after each hidden layer's activation and dropout but the first's (the order of "
                   "the Keras / PyTorch-GAN tutorial DCGAN: D's last hidden operation is a batch norm, so on a "
                   "batch of one kind the mean of its features is fixed and D judges their spread); real and "
                   "generated batches go through D apart; not with a gradient penalty",
    "none": "no normalization in D (what gradient penalties assume)",
    "layer": "layer norm after each hidden layer of D",
    "spectral": "spectral norm of every D layer (Miyato et al.)"})
G_NORMS = Registry.of("G normalization", {
    "batch": "batch norm after each hidden layer of G (DCGAN)",
    "none": "no normalization in G"})
#: G's last operation by name (the data lie in [-1, 1]): each builds a module without
#: parameters, so a checkpoint fits either choice
G_OUTPUTS: Registry[Callable[[], nn.Module]] = Registry("G output")
G_OUTPUTS.add("tanh", nn.Tanh, "tanh: every sample inside [-1, 1]")
G_OUTPUTS.add("linear", nn.Identity,
              "no activation (R3GAN's generator): the last layer's values as they are, clamped to [-1, 1] only "
              "when samples are drawn; on mostly-black data (digits) a tanh G that paints the background near -1 "
              "sits in tanh's flat tail there and its gradient fades")
#: activations by name: each builds a module from the LeakyReLU slope
ACTIVATIONS: Registry[Callable[[float], nn.Module]] = Registry("activation")
#: weight initializations by name: each initializes one weight tensor in place
INITS: Registry[Callable[[torch.Tensor], object]] = Registry("initialization")


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
        # differentiable in grad (double backward works), constant in the activation. ATen's
        # own kernel: torch.where(out > 0, grad, grad * slope) gives the same values but was
        # measured at 0.83-0.86x the DCGAN's steps/s (three kernels for one;
        # benchmarks/activation_backward.py). The op is part of torch's operator set; the
        # torch range in pyproject is what CI and the GPU runs tested.
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


ACTIVATIONS.add("auto", lambda slope: PiecewiseLinear(slope),
                "the model's own choice (ReLU in G, LeakyReLU in D)")
ACTIVATIONS.add("relu", lambda slope: PiecewiseLinear(0.0), "ReLU")
ACTIVATIONS.add("leakyrelu", lambda slope: PiecewiseLinear(slope), "LeakyReLU with model.slope")
ACTIVATIONS.add("tanh", lambda slope: nn.Tanh(), "tanh")
ACTIVATIONS.add("silu", lambda slope: nn.SiLU(), "SiLU (swish)")


def activation(name: str, slope: float = 0.2) -> nn.Module:
    """An activation module by name. ReLU and LeakyReLU are :class:`PiecewiseLinear`.
    ``auto`` is resolved by the model first (:func:`resolve_act`)."""
    if name == "auto":
        raise ConfigError("activation 'auto' must be resolved by the model first")
    return ACTIVATIONS.get(name)(slope)


def g_output(name: str) -> nn.Module:
    """G's output module by name (:data:`G_OUTPUTS`)."""
    return G_OUTPUTS.get(name)()


def resolve_act(name: str, default: str) -> str:
    return default if name == "auto" else name


def d_norm_wrap(layer: nn.Module, norm: str) -> nn.Module:
    """Spectral norm wraps the layer; other choices add separate layers elsewhere."""
    D_NORMS.get(norm)
    return nn.utils.parametrizations.spectral_norm(layer) if norm == "spectral" else layer


def d_down_block(conv: nn.Module, cout: int, first: bool, norm: str, act: str, slope: float,
                 dropout: float) -> list[nn.Module]:
    """One downsampling block of a convolutional D: the convolution (spectral-normed when
    ``norm`` says so), layer or batch norm after all but the first, the activation,
    dropout when asked; ``batch-after`` puts the batch norm after the dropout instead."""
    layers: list[nn.Module] = [d_norm_wrap(conv, norm)]
    if norm == "layer" and not first:
        layers.append(nn.GroupNorm(1, cout))
    elif norm == "batch" and not first:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(activation(act, slope))
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    if norm == "batch-after" and not first:
        layers.append(nn.BatchNorm2d(cout))
    return layers


def strided_critic(channels: int, widths: list[int], kernel: int, side: int, norm: str, act: str, slope: float,
                   dropout: float, mbstd: int = 0) -> nn.Sequential:
    """A convolutional D body: stride-2 ``kernel`` convolutions of ``widths`` (each a
    :func:`d_down_block`), then (``mbstd`` > 0) a :class:`MinibatchStd` over groups of that
    size, Flatten and a Linear from the final ``side`` x ``side`` map to one logit. The last
    module is that Linear (projection D's take ``[:-1]`` as features)."""
    layers: list[nn.Module] = []
    cin = channels
    for i, cout in enumerate(widths):
        layers += d_down_block(nn.Conv2d(cin, cout, kernel, 2, 1), cout, i == 0, norm, act, slope, dropout)
        cin = cout
    layers += std_head(mbstd) + [nn.Flatten(), d_norm_wrap(nn.Linear((cin + (mbstd > 0)) * side * side, 1), norm)]
    return nn.Sequential(*layers)


class MinibatchStd(nn.Module):
    """Minibatch standard deviation (ProGAN, StyleGAN, R3GAN): one feature appended to
    each example, the standard deviation of the features across its group of ``group``
    examples, averaged over features. A D that sees how varied a group is can penalize a
    G that makes too few kinds of sample, which a D judging one example at a time cannot.

    Groups take every ``n/group``-th example (StyleGAN's layout). When ``group`` does not
    divide the batch, the largest common divisor is used, so any batch size works (a group
    of 1 gives a constant feature). Takes (N, F) or (N, C, H, W); adds one feature or one
    channel."""

    def __init__(self, group: int) -> None:
        super().__init__()
        if group < 1:
            raise ValueError(f"minibatch-std group must be >= 1, got {group}")
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        g = math.gcd(self.group, n)
        y = x.reshape(g, n // g, *x.shape[1:]).float()
        y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt()  # (n/g, ...) std over each group
        y = y.flatten(1).mean(1).to(x.dtype).repeat(g)  # example i reads its group's value
        if x.dim() == 2:
            return torch.cat([x, y[:, None]], 1)
        return torch.cat([x, y.view(n, 1, *([1] * (x.dim() - 2))).expand(n, 1, *x.shape[2:])], 1)

    def extra_repr(self) -> str:
        return f"group={self.group}"


def std_head(group: int) -> list[nn.Module]:
    """``[MinibatchStd(group)]``, or nothing when ``group`` is 0 (the layer is off)."""
    return [MinibatchStd(group)] if group > 0 else []


def has_batch_norm(module: nn.Module) -> bool:
    """Whether ``module`` holds a batch norm layer (its output for one sample then depends
    on the others in its batch)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def has_minibatch_std(module: nn.Module) -> bool:
    """Whether ``module`` holds a :class:`MinibatchStd` layer (its output for one sample
    then depends on the others in its group)."""
    return any(isinstance(m, MinibatchStd) for m in module.modules())


def spectral_all(module: nn.Module) -> nn.Module:
    """Spectral norm on every Linear / conv layer of ``module`` (for G)."""
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            setattr(module, name, nn.utils.parametrizations.spectral_norm(child))
        else:
            spectral_all(child)
    return module


INITS.add("default", lambda w: None, "PyTorch's own initialization")
INITS.add("normal", lambda w: nn.init.normal_(w, 0.0, 0.02), "N(0, 0.02), as DCGAN")
INITS.add("xavier", nn.init.xavier_uniform_, "Xavier (Glorot) uniform")
INITS.add("kaiming", lambda w: nn.init.kaiming_normal_(w, a=0.2, nonlinearity="leaky_relu"),
          "Kaiming (He) normal for LeakyReLU 0.2")
INITS.add("orthogonal", nn.init.orthogonal_, "orthogonal")


def init_weights(module: nn.Module, scheme: str) -> None:
    """Initialize Linear/conv weights by ``scheme`` (a name in INITS), biases to 0.
    ``default`` keeps PyTorch's own initialization, biases included."""
    init = INITS.get(scheme)
    if scheme == "default":
        return
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            init(m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
