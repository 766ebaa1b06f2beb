"""Lipschitz controls and discriminator regularizers.

Gradient-based penalties return the *unweighted* penalty (a scalar) and detached
diagnostics; the training loop multiplies by the weight its schedule chooses. Penalty
points are interpolated with one coefficient per sample (never per pixel):
``x_hat = eps * x_real + (1 - eps) * x_fake`` with ``eps ~ U[eps_low, 1]``.
``eps_low = 0`` is WGAN-GP's U[0, 1]; the IVGP schedule raises ``eps_low`` so the
points move onto the real samples as the distributions meet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

import torch
import torch.nn as nn

from ..errors import ConfigError
from ..registry import Registry

Tensor = torch.Tensor
Critic = Callable[[Tensor], Tensor]


@dataclass
class PenaltyResult:
    value: Tensor  #: unweighted penalty, scalar, differentiable w.r.t. the critic
    stats: dict[str, Tensor] = field(default_factory=dict)  #: detached diagnostics


class RandomSource(Protocol):
    """Where a penalty draws its noise (the trainer's per-rank batch source)."""

    def uniform(self, shape: tuple[int, ...], like: Tensor) -> Tensor: ...


def _uniform(shape: tuple[int, ...], like: Tensor, rng: "Optional[RandomSource | torch.Generator]") -> Tensor:
    """U[0, 1) noise from ``rng``: a RandomSource, a torch.Generator, or None (global RNG)."""
    if rng is None or isinstance(rng, torch.Generator):
        return torch.rand(shape, device=like.device, dtype=like.dtype, generator=rng)
    return rng.uniform(shape, like)


def _per_sample_shape(x: Tensor) -> tuple[int, ...]:
    return (x.shape[0],) + (1,) * (x.dim() - 1)


def interpolate(real: Tensor, fake: Tensor, eps_low: float = 0.0,
                rng: Optional[RandomSource] = None) -> tuple[Tensor, Tensor]:
    """Penalty points between real and fake, one eps ~ U[eps_low, 1] per sample."""
    u = _uniform(_per_sample_shape(real), real, rng)
    eps = eps_low + (1.0 - eps_low) * u
    return eps * real + (1.0 - eps) * fake, eps.flatten()


def input_gradient(critic: Critic, x: Tensor, grad_scale: float = 1.0) -> Tensor:
    """d sum(D(x)) / dx with a graph, so the penalty can be backpropagated.

    ``grad_scale`` (float16 training) multiplies the output before differentiating and
    divides the gradient after, so small gradients do not underflow in half precision;
    the result is the same gradient."""
    x = x.detach().requires_grad_(True)
    out = critic(x).float().sum()
    if grad_scale != 1.0:
        out = out * grad_scale
    (grad,) = torch.autograd.grad(out, x, create_graph=True)
    return grad.float() / grad_scale if grad_scale != 1.0 else grad


def _gradient_stats(grad: Tensor, norms: Tensor, real: Tensor, fake: Tensor, eps: Tensor) -> dict[str, Tensor]:
    diff = (real - fake).flatten(1)
    u = diff / diff.norm(dim=1, keepdim=True).clamp_min(1e-12)
    dd = (grad.flatten(1) * u).sum(1)  # directional derivative of D along x_real - x_fake
    return {
        "gp_grad_norm": norms.mean().detach(),
        "gp_grad_norm_max": norms.max().detach(),
        "gp_dir_deriv": dd.mean().detach(),
        "gp_dir_deriv_max": dd.abs().max().detach(),
        "eps_mean": eps.mean().detach(),
        "eps_std": eps.std(unbiased=False).detach() if eps.numel() > 1 else eps.new_zeros(()),
    }


class Penalty:
    """Base: a penalty that adds nothing. ``post_step`` runs after each critic update."""

    uses_interpolation = False  #: whether the schedule's eps law applies
    needs_gradient = False

    def __call__(self, critic: Critic, real: Tensor, fake: Tensor, eps_low: float = 0.0,
                 rng: Optional[RandomSource] = None, detail: bool = True,
                 grad_scale: float = 1.0) -> Optional[PenaltyResult]:
        """``detail=False`` skips the diagnostics except the mean gradient norm;
        ``grad_scale``: see :func:`input_gradient`."""
        return None

    def post_step(self, critic: nn.Module) -> None:
        pass


PENALTIES: Registry[Callable[..., Penalty]] = Registry("penalty")


@PENALTIES.register("none", help="no penalty")
class NoPenalty(Penalty):
    def __init__(self, **_: object) -> None:
        pass


@PENALTIES.register("gp")
class GradientPenalty(Penalty):
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad D(x_hat)||_2 - 1)^2]."""

    uses_interpolation = True
    needs_gradient = True

    def __init__(self, **_: object) -> None:
        pass

    def shape(self, norms: Tensor) -> Tensor:
        return (norms - 1.0) ** 2

    def __call__(self, critic, real, fake, eps_low=0.0, rng=None, detail=True, grad_scale=1.0):
        x_hat, eps = interpolate(real, fake, eps_low, rng)
        grad = input_gradient(critic, x_hat, grad_scale)
        norms = grad.flatten(1).norm(2, dim=1)
        stats = _gradient_stats(grad, norms, real, fake, eps) if detail else {"gp_grad_norm": norms.mean().detach()}
        return PenaltyResult(self.shape(norms).mean(), stats)


@PENALTIES.register("gp0", help="zero-centred penalty at interpolated points (Thanh-Tung et al. 2019; IVGP-0)")
class ZeroCentredGP(Penalty):
    """Zero-centred gradient penalty at the interpolated points (Thanh-Tung et al. 2019):
    1/2 E[||grad D(x_hat)||^2]. With the IVGP schedule this is the reading IVGP-0: as the
    points move onto the real samples (eps -> 1) it becomes R1 exactly, the penalty known
    to make GAN training converge locally (Mescheder et al. 2018)."""

    uses_interpolation = True
    needs_gradient = True

    def __init__(self, **_: object) -> None:
        pass

    def __call__(self, critic, real, fake, eps_low=0.0, rng=None, detail=True, grad_scale=1.0):
        x_hat, eps = interpolate(real, fake, eps_low, rng)
        grad = input_gradient(critic, x_hat, grad_scale)
        sq = grad.flatten(1).pow(2).sum(1)
        norms = sq.sqrt()
        stats = _gradient_stats(grad, norms, real, fake, eps) if detail else {"gp_grad_norm": norms.mean().detach()}
        return PenaltyResult(0.5 * sq.mean(), stats)


@PENALTIES.register("lp")
class LipschitzPenalty(GradientPenalty):
    """One-sided (WGAN-LP, Petzka et al. 2018): E[max(0, ||grad D(x_hat)|| - 1)^2]."""

    def shape(self, norms: Tensor) -> Tensor:
        return torch.clamp(norms - 1.0, min=0.0) ** 2


@PENALTIES.register("dragan", help="DRAGAN (Kodali et al. 2017): unit gradient norm around perturbed real data")
class DRAGANPenalty(Penalty):
    """DRAGAN (Kodali et al. 2017): (||grad D(x + delta)|| - 1)^2 with
    delta = 0.5 * std(x) * U[0, 1) noise around the real samples."""

    needs_gradient = True

    def __init__(self, **_: object) -> None:
        pass

    def __call__(self, critic, real, fake, eps_low=0.0, rng=None, detail=True, grad_scale=1.0):
        noise = _uniform(tuple(real.shape), real, rng)
        x = real + 0.5 * real.std() * noise
        grad = input_gradient(critic, x, grad_scale)
        norms = grad.flatten(1).norm(2, dim=1)
        return PenaltyResult(((norms - 1.0) ** 2).mean(),
                             {"gp_grad_norm": norms.mean().detach(), "gp_grad_norm_max": norms.max().detach()})


class _ZeroCentred(Penalty):
    """R1 / R2 (Mescheder et al. 2018): 1/2 E[||grad D(x)||^2] on real (R1) or fake (R2)."""

    needs_gradient = True
    on_real = True

    def __init__(self, **_: object) -> None:
        pass

    def __call__(self, critic, real, fake, eps_low=0.0, rng=None, detail=True, grad_scale=1.0):
        grad = input_gradient(critic, real if self.on_real else fake, grad_scale)
        sq = grad.flatten(1).pow(2).sum(1)
        return PenaltyResult(0.5 * sq.mean(), {"gp_grad_norm": sq.sqrt().mean().detach(),
                                               "gp_grad_norm_max": sq.sqrt().max().detach()})


@PENALTIES.register("r1", help="R1: squared gradient norm of D on real data (Mescheder et al.)")
class R1Penalty(_ZeroCentred):
    on_real = True


@PENALTIES.register("r2", help="R2: squared gradient norm of D on generated data")
class R2Penalty(_ZeroCentred):
    on_real = False


@PENALTIES.register("clip")
class WeightClipping(Penalty):
    """Original WGAN: clamp every critic parameter to [-c, c] after each update."""

    def __init__(self, clip: float = 0.01, **_: object) -> None:
        self.c = clip

    @torch.no_grad()
    def post_step(self, critic: nn.Module) -> None:
        for p in critic.parameters():
            p.clamp_(-self.c, self.c)


class CompositePenalty(Penalty):
    """Several regularizers in one run (``r1+r2``, R3GAN's pair): the value is
    sum_i f_i * value_i with each term's factor f_i (``penalty.term_weights``), so one
    schedule's lambda scales all of them. Each term's value and gradient norm are logged
    under its own name; the first gradient term's norm is also the ``gp_grad_norm`` that
    feedback schedules read."""

    def __init__(self, names: list[str], terms: list[Penalty], factors: list[float]) -> None:
        self.names, self.terms, self.factors = names, terms, factors
        self.needs_gradient = any(t.needs_gradient for t in terms)
        self.uses_interpolation = any(t.uses_interpolation for t in terms)

    def __call__(self, critic, real, fake, eps_low=0.0, rng=None, detail=True, grad_scale=1.0):
        total: Optional[Tensor] = None
        stats: dict[str, Tensor] = {}
        for name, term, f in zip(self.names, self.terms, self.factors):
            res = term(critic, real, fake, eps_low, rng, detail, grad_scale)
            if res is None:
                continue
            total = f * res.value if total is None else total + f * res.value
            stats[f"penalty_{name}"] = res.value.detach()
            if "gp_grad_norm" in res.stats:
                stats[f"{name}_grad_norm"] = res.stats["gp_grad_norm"]
            for k, v in res.stats.items():
                stats.setdefault(k, v)  # the first term's diagnostics keep their plain names
        return PenaltyResult(total, stats) if total is not None else None

    def post_step(self, critic: nn.Module) -> None:
        for t in self.terms:
            t.post_step(critic)


def build_penalty(name: str, clip: float = 0.01, factors: Optional[list[float]] = None) -> Penalty:
    """The penalty ``name``; several joined by ``+`` (``r1+r2``) give a :class:`CompositePenalty`."""
    names = [n.strip() for n in name.split("+")]
    if len(names) == 1:
        return PENALTIES.get(name)(clip=clip)
    if len(set(names)) != len(names):
        raise ConfigError(f"penalty.name={name!r} names a term twice")
    terms = [PENALTIES.get(n)(clip=clip) for n in names]
    return CompositePenalty(names, terms, list(factors) if factors else [1.0] * len(names))
