"""Optimizers, learning-rate schedules, gradient clipping and the generator EMA.

Learning-rate schedules are pure functions of the generator step (``lr_factor``), so a
resumed run recomputes exactly the same rate without saving scheduler objects.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Iterable

import torch
import torch.nn as nn

from .config import OptimizerConfig
from .errors import ConfigError
from .registry import Registry

OPTIMIZERS: Registry[Callable[[Iterable[nn.Parameter], OptimizerConfig], torch.optim.Optimizer]] = Registry("optimizer")


@OPTIMIZERS.register("adam")
def _adam(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay)


@OPTIMIZERS.register("adamw")
def _adamw(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay)


@OPTIMIZERS.register("sgd")
def _sgd(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    if c.nesterov and c.momentum <= 0:
        raise ConfigError("optim nesterov=true needs momentum > 0")
    return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov, weight_decay=c.weight_decay)


@OPTIMIZERS.register("rmsprop")
def _rmsprop(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)


@OPTIMIZERS.register("adagrad")
def _adagrad(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(params, lr=c.lr, weight_decay=c.weight_decay)


def build_optimizer(params: Iterable[nn.Parameter], c: OptimizerConfig) -> torch.optim.Optimizer:
    return OPTIMIZERS.get(c.name)(params, c)


LR_SCHEDULES = ("constant", "exponential", "step", "linear", "cosine")


def lr_factor(c: OptimizerConfig, step: int, total: int) -> float:
    """Multiplier of the base learning rate at generator step ``step`` of ``total``."""
    if c.schedule not in LR_SCHEDULES:
        raise ConfigError(f"unknown LR schedule {c.schedule!r}; choose one of: {', '.join(LR_SCHEDULES)}")
    warm = min(1.0, (step + 1) / c.warmup) if c.warmup > 0 else 1.0
    t = max(step - c.warmup, 0)
    span = max(total - c.warmup, 1)
    if c.schedule == "constant":
        f = 1.0
    elif c.schedule == "exponential":  # gamma per 100 generator steps
        f = c.gamma ** (t / 100.0)
    elif c.schedule == "step":
        f = c.gamma ** (t // c.step_size)
    elif c.schedule == "linear":
        f = max(0.0, 1.0 - t / span)
    else:
        f = 0.5 * (1.0 + math.cos(math.pi * min(t / span, 1.0)))
    return warm * f


def set_lr(opt: torch.optim.Optimizer, base_lr: float, factor: float) -> float:
    lr = base_lr * factor
    for group in opt.param_groups:
        group["lr"] = lr
    return lr


def grad_norm(params: Iterable[nn.Parameter], max_norm: float | None) -> torch.Tensor:
    """Global gradient norm before clipping; clips in place when ``max_norm`` is set."""
    params = [p for p in params if p.grad is not None]
    if not params:
        return torch.zeros(())
    return torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm is not None else float("inf"))


class EMA:
    """Exponential moving average of a module's parameters (buffers are copied)."""

    def __init__(self, module: nn.Module, decay: float) -> None:
        self.decay = decay
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        for e, p in zip(self.module.parameters(), module.parameters()):
            e.lerp_(p.detach(), 1.0 - self.decay)
        for e, b in zip(self.module.buffers(), module.buffers()):
            e.copy_(b)
