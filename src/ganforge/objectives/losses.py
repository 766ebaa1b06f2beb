"""Adversarial losses as pure functions of discriminator outputs (logits).

Each :class:`Loss` pairs a discriminator loss ``d(real, fake)`` and a generator loss
``g(fake)`` (relativistic losses: ``g(fake, real)``, the real logits held constant);
all take 1-D tensors of raw discriminator outputs and return a scalar mean over the
batch. ``real_label`` < 1 gives one-sided label smoothing for the
BCE-based losses (Salimans et al. 2016): the real target becomes ``real_label``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..registry import Registry

Tensor = torch.Tensor


@dataclass(frozen=True)
class Loss:
    name: str
    d: Callable[..., Tensor]  #: d(real_logits, fake_logits, real_label=1.0) -> scalar
    g: Callable[..., Tensor]  #: g(fake_logits) -> scalar; relativistic: g(fake_logits, real_logits)
    wasserstein: bool = False  #: the critic output difference estimates W1
    relativistic: bool = False  #: G's loss also needs D(x_real) of a real batch


LOSSES: Registry[Loss] = Registry("loss")


def _bce_d(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    # -[s log sig(r) + (1-s) log(1-sig(r))] - log(1 - sig(f)); log sig(x) = -softplus(-x)
    real_term = real_label * F.softplus(-real) + (1.0 - real_label) * F.softplus(real)
    return real_term.mean() + F.softplus(fake).mean()


def minimax_g(fake: Tensor) -> Tensor:
    """Saturating loss of the original GAN: minimise log(1 - D(G(z)))."""
    return -F.softplus(fake).mean()


def nonsaturating_g(fake: Tensor) -> Tensor:
    """Non-saturating: minimise -log D(G(z))."""
    return F.softplus(-fake).mean()


def lsgan_d(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    """Least squares (Mao et al.): 1/2 E[(D(x)-b)^2] + 1/2 E[D(G(z))^2], b = real_label."""
    return 0.5 * ((real - real_label) ** 2).mean() + 0.5 * (fake**2).mean()


def lsgan_g(fake: Tensor) -> Tensor:
    return 0.5 * ((fake - 1.0) ** 2).mean()


def hinge_d(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_g(fake: Tensor) -> Tensor:
    return -fake.mean()


def wasserstein_d(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    """Critic loss E[D(G(z))] - E[D(x)] (the negative Wasserstein estimate)."""
    return fake.mean() - real.mean()


def wasserstein_g(fake: Tensor) -> Tensor:
    return -fake.mean()


def rpgan_d(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    """Relativistic pairing GAN (Jolicoeur-Martineau 2019; R3GAN, Huang et al. 2024):
    E[softplus(-(D(x_r) - D(x_f)))], each real paired with one fake of the batch."""
    return F.softplus(-(real - fake)).mean()


def rpgan_g(fake: Tensor, real: Tensor) -> Tensor:
    """The mirror of :func:`rpgan_d`: E[softplus(-(D(x_f) - D(x_r)))]."""
    return F.softplus(-(fake - real)).mean()


def ragan_d(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    """Relativistic average GAN (Jolicoeur-Martineau 2018): each real is judged against
    the mean fake and each fake against the mean real:
    E_r[softplus(-(D(x_r) - mean D(x_f)))] + E_f[softplus(D(x_f) - mean D(x_r))]."""
    return F.softplus(-(real - fake.mean())).mean() + F.softplus(fake - real.mean()).mean()


def ragan_g(fake: Tensor, real: Tensor) -> Tensor:
    """The mirror of :func:`ragan_d` (roles of real and fake swapped)."""
    return F.softplus(-(fake - real.mean())).mean() + F.softplus(real - fake.mean()).mean()


LOSSES.add("minimax", Loss("minimax", _bce_d, minimax_g), help="the original GAN's log(1 - D(G(z))) for G")
LOSSES.add("nonsaturating", Loss("nonsaturating", _bce_d, nonsaturating_g), help="G maximises log D(G(z)) (the usual GAN loss)")
LOSSES.add("lsgan", Loss("lsgan", lsgan_d, lsgan_g), help="least squares (Mao et al.)")
LOSSES.add("hinge", Loss("hinge", hinge_d, hinge_g), help="hinge loss for D (SNGAN, BigGAN)")
LOSSES.add("wasserstein", Loss("wasserstein", wasserstein_d, wasserstein_g, wasserstein=True), help="WGAN critic (pair with a Lipschitz penalty)")
LOSSES.add("rpgan", Loss("rpgan", rpgan_d, rpgan_g, relativistic=True), help="relativistic pairing: softplus(-(D(real) - D(fake))) (R3GAN)")
LOSSES.add("ragan", Loss("ragan", ragan_d, ragan_g, relativistic=True), help="relativistic average (Jolicoeur-Martineau)")
