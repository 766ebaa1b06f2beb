"""Penalty schedules: small policy objects that choose, every critic step, the penalty
weight lambda and where the penalty points are taken.

All share one interface. Before the penalty of a critic step the loop calls
``decide(obs)`` with what that step has already measured (the critic's outputs on the
real and fake batch, reduced to the Wasserstein estimate W_t); the schedule returns a
:class:`Decision` (lambda, ``eps_low`` of the interpolation law eps ~ U[eps_low, 1], and
diagnostics to log). After the penalty, ``feedback(grad_norm)`` reports the mean
gradient norm at the penalty points (the PI controller's error signal). State
round-trips through ``state_dict`` / ``load_state_dict`` so a resumed run continues
exactly.

A new policy is one small class registered in ``SCHEDULES``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import torch

from ..config import PenaltyConfig
from ..registry import Registry


@dataclass
class Observation:
    step: int  #: generator step (0-based) of this critic step
    total: int  #: generator steps in the run
    #: W_t = mean D(x_real) - mean D(x_fake) on this critic step's batches: a float, or a
    #: 0-d tensor on the device when the step reads nothing on the host (schedules with
    #: ``deferrable`` take it so; their Decision then holds tensors too)
    w: Any
    #: fraction of the run done: the larger of step / total and (with train.max_seconds) the
    #: time budget used; None reads as step / total
    frac: Optional[float] = None

    @property
    def run_fraction(self) -> float:
        return self.frac if self.frac is not None else self.step / max(self.total, 1)


@dataclass
class Decision:
    weight: Any  #: lambda for this critic step (a float; a 0-d tensor from a tensor W_t)
    eps_low: Any = 0.0  #: penalty points: eps ~ U[eps_low, 1] (0 = WGAN-GP)
    stats: dict[str, Any] = field(default_factory=dict)


class Schedule:
    """Base policy: constant lambda, WGAN-GP interpolation."""

    uses_distance = False  #: needs Observation.w (costs a device sync per critic step unless deferrable)
    uses_feedback = False  #: wants feedback(grad_norm) after each penalty
    deferrable = False  #: decides from a device tensor W_t as well, with the same arithmetic

    def __init__(self, cfg: PenaltyConfig) -> None:
        self.cfg = cfg

    def decide(self, obs: Observation) -> Decision:
        return Decision(self.cfg.weight)

    def feedback(self, grad_norm: float) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


SCHEDULES: Registry[type[Schedule]] = Registry("penalty schedule")
SCHEDULES.add("constant", Schedule)


@SCHEDULES.register("ivgp")
class IVGPSchedule(Schedule):
    """The paper's iterative, variable-hyperparameter penalty, as this project reads it.

    d_t = beta d_{t-1} + (1 - beta) W_t (d_1 = W_1); d_ref = max_s d_s (or d_1 with
    reference='initial'); rho_t = clip(d_t / d_ref, 0, 1);
    lambda_t = lambda_min + (lambda_max - lambda_min) rho_t; eps ~ U[1 - rho_t, 1].
    rho = 1 is WGAN-GP exactly; rho -> 0 puts the penalty points on the real samples
    with lambda = lambda_min. Before the reference is positive rho stays 1.
    """

    uses_distance = True
    deferrable = True

    def __init__(self, cfg: PenaltyConfig) -> None:
        super().__init__(cfg)
        self.d: Any = None  #: float, or a float64 device tensor in a deferred step
        self.d_ref: Any = None
        self.n = 0

    def rho(self) -> float:
        if self.d is None or self.d_ref is None or self.n <= self.cfg.ivgp.warmup:
            return 1.0
        if isinstance(self.d, torch.Tensor):
            return float(self._rho_tensor())
        if self.d_ref <= 0:
            return 1.0
        return min(max(self.d / self.d_ref, 0.0), 1.0)

    def _rho_tensor(self) -> torch.Tensor:
        ratio = (self.d / self.d_ref).clamp(0.0, 1.0)
        return torch.where(self.d_ref > 0, ratio, torch.ones_like(ratio))

    def decide(self, obs: Observation) -> Decision:
        if isinstance(obs.w, torch.Tensor):
            return self._decide_tensor(obs.w)
        beta = self.cfg.ivgp.beta
        w = obs.w if math.isfinite(obs.w) else (self.d if self.d is not None else 0.0)
        self.d = w if self.d is None else beta * self.d + (1.0 - beta) * w
        self.n += 1
        if self.cfg.ivgp.reference == "max":
            self.d_ref = self.d if self.d_ref is None else max(self.d_ref, self.d)
        elif self.d_ref is None or self.d_ref <= 0:  # 'initial': first positive distance
            self.d_ref = self.d
        rho = self.rho()
        lo, hi = self.cfg.weight_min, self.cfg.weight
        return Decision(lo + (hi - lo) * rho, 1.0 - rho,
                        {"ivgp_distance": self.d, "ivgp_reference": self.d_ref or 0.0, "ivgp_rho": rho})

    def _decide_tensor(self, w: torch.Tensor) -> Decision:
        """The same recurrence on the device, in float64 (what the host's Python floats
        are), with no value read back: weight and eps_low are 0-d tensors."""
        beta = self.cfg.ivgp.beta
        w = w.detach().double()
        if isinstance(self.d, (int, float)):  # resumed from a checkpoint: continue on the device
            self.d = torch.tensor(float(self.d), dtype=torch.float64, device=w.device)
        if isinstance(self.d_ref, (int, float)):
            self.d_ref = torch.tensor(float(self.d_ref), dtype=torch.float64, device=w.device)
        w = torch.where(torch.isfinite(w), w, self.d if self.d is not None else torch.zeros_like(w))
        self.d = w if self.d is None else beta * self.d + (1.0 - beta) * w
        self.n += 1
        if self.d_ref is None:
            self.d_ref = self.d
        elif self.cfg.ivgp.reference == "max":
            self.d_ref = torch.maximum(self.d_ref, self.d)
        else:  # 'initial': the first positive distance
            self.d_ref = torch.where(self.d_ref <= 0, self.d, self.d_ref)
        rho = torch.ones_like(self.d) if self.n <= self.cfg.ivgp.warmup else self._rho_tensor()
        lo, hi = self.cfg.weight_min, self.cfg.weight
        return Decision(lo + (hi - lo) * rho, 1.0 - rho,
                        {"ivgp_distance": self.d, "ivgp_reference": self.d_ref, "ivgp_rho": rho})

    def state_dict(self) -> dict:
        def plain(v: Any) -> Any:  # checkpoints hold plain numbers
            return float(v) if isinstance(v, torch.Tensor) else v
        return {"d": plain(self.d), "d_ref": plain(self.d_ref), "n": self.n}

    def load_state_dict(self, state: dict) -> None:
        self.d, self.d_ref, self.n = state["d"], state["d_ref"], int(state["n"])


@SCHEDULES.register("pi")
class PISchedule(Schedule):
    """PI control of lambda on the gradient-norm error e_t = mean ||grad|| - target
    (Mtetwa et al. 2025): lambda_{t+1} = clip(lambda_t + Kp e_t + Ki sum_s e_s, lo, hi).

    A too-steep critic (e > 0) raises lambda, a too-flat one lowers it. Anti-windup:
    the error sum stops growing in the direction that would push lambda further into a
    bound it already sits on.
    """

    uses_feedback = True

    def __init__(self, cfg: PenaltyConfig) -> None:
        super().__init__(cfg)
        p = cfg.pi
        self.lam = min(max(cfg.weight, p.lambda_lo), p.lambda_hi)
        self.integral = 0.0
        self.last_error = 0.0

    def decide(self, obs: Observation) -> Decision:
        return Decision(self.lam, 0.0, {"pi_error": self.last_error, "pi_integral": self.integral})

    def feedback(self, grad_norm: float) -> None:
        if not math.isfinite(grad_norm):
            return
        p = self.cfg.pi
        e = grad_norm - p.target
        at_hi, at_lo = self.lam >= p.lambda_hi, self.lam <= p.lambda_lo
        if not ((at_hi and e > 0) or (at_lo and e < 0)):
            self.integral += e
        self.lam = min(max(self.lam + p.kp * e + p.ki * self.integral, p.lambda_lo), p.lambda_hi)
        self.last_error = e

    def state_dict(self) -> dict:
        return {"lam": self.lam, "integral": self.integral, "last_error": self.last_error}

    def load_state_dict(self, state: dict) -> None:
        self.lam, self.integral, self.last_error = state["lam"], state["integral"], state["last_error"]


class _Decay(Schedule):
    """lambda from lambda_max (penalty.weight) to lambda_min over the run."""

    def shape(self, frac: float) -> float:  # 1 at the start, 0 at the end
        raise NotImplementedError

    def decide(self, obs: Observation) -> Decision:
        # R3GAN decays over a fixed span of steps; without one, over the run (steps or time)
        span = self.cfg.decay_steps
        frac = min(obs.step / span if span else obs.run_fraction, 1.0)
        lo, hi = self.cfg.weight_min, self.cfg.weight
        return Decision(lo + (hi - lo) * self.shape(frac))


@SCHEDULES.register("linear", help="linear decay from penalty.weight to weight_min over decay_steps (or the run)")
class LinearDecay(_Decay):
    def shape(self, frac: float) -> float:
        return 1.0 - frac


@SCHEDULES.register("cosine", help="cosine decay from penalty.weight to weight_min over decay_steps (or the run)")
class CosineDecay(_Decay):
    def shape(self, frac: float) -> float:
        return 0.5 * (1.0 + math.cos(math.pi * frac))


def build_schedule(cfg: PenaltyConfig) -> Schedule:
    return SCHEDULES.get(cfg.schedule)(cfg)
