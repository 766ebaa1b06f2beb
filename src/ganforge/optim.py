"""Optimizers, learning-rate schedules, gradient clipping and the generator EMA.

Learning-rate schedules are pure functions of the generator step (``lr_factor``), so a
resumed run recomputes exactly the same rate without saving scheduler objects.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Iterable, Optional

import torch
import torch.nn as nn

from .config import OptimizerConfig
from .errors import ConfigError
from .models.layers import has_batch_norm
from .registry import Registry

OPTIMIZERS: Registry[Callable[[Iterable[nn.Parameter], OptimizerConfig], torch.optim.Optimizer]] = Registry("optimizer")


#: the optimizers with a fused kernel (one kernel over all parameters) on both CPU and CUDA
FUSED = ("adam", "adamw", "sgd")


def impl_kwargs(c: OptimizerConfig) -> dict[str, bool]:
    """The keyword that picks torch's implementation for ``c.impl``. Why fused by default:
    one update of the StackedMNIST recipe's G and D took 14.4 ms with the per-parameter loop,
    torch's default on a CPU, and 1.7 ms fused, to the same weights within float32 rounding,
    beside a bf16 step of about 64 ms (docs/results/optim_impl.md)."""
    if c.impl == "fused" and c.name not in FUSED:
        raise ConfigError(f"optim impl=fused is not available for {c.name}; it is for {', '.join(FUSED)}")
    if c.impl == "fused" or (c.impl == "auto" and c.name in FUSED):
        return {"fused": True}
    if c.impl in ("foreach", "loop"):
        return {"foreach": c.impl == "foreach"}
    return {}


@OPTIMIZERS.register("adam", help="Adam (lr, betas, weight_decay)")
def _adam(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay, **impl_kwargs(c))


@OPTIMIZERS.register("adamw", help="AdamW, decoupled weight decay")
def _adamw(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay, **impl_kwargs(c))


@OPTIMIZERS.register("sgd", help="SGD (momentum, nesterov)")
def _sgd(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    if c.nesterov and c.momentum <= 0:
        raise ConfigError("optim nesterov=true needs momentum > 0")
    return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov, weight_decay=c.weight_decay,
                           **impl_kwargs(c))


@OPTIMIZERS.register("rmsprop", help="RMSprop (the original WGAN's choice)")
def _rmsprop(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay, **impl_kwargs(c))


@OPTIMIZERS.register("adagrad", help="Adagrad")
def _adagrad(params, c: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(params, lr=c.lr, weight_decay=c.weight_decay, **impl_kwargs(c))


def lazy_corrected(c: OptimizerConfig, ratio: float) -> OptimizerConfig:
    """``c`` with the lazy-regularization correction of StyleGAN2 (Karras et al. 2020):
    lr x ratio and each beta ** ratio, ratio = k/(k+1) for a penalty every k steps."""
    if ratio == 1.0:
        return c
    out = copy.deepcopy(c)
    out.lr = c.lr * ratio
    out.betas = [b ** ratio for b in c.betas]
    return out


def build_optimizer(params: Iterable[nn.Parameter], c: OptimizerConfig) -> torch.optim.Optimizer:
    return OPTIMIZERS.get(c.name)(params, c)


#: learning-rate schedules by name: each maps (config, generator steps past warm-up, fraction of
#: the run past warm-up done) to a multiplier of the base learning rate. The fraction is the
#: larger of the steps' and (with train.max_seconds) the time budget's, so a decay "to the end
#: of the run" ends when either budget does.
LR_SCHEDULES: Registry[Callable[[OptimizerConfig, int, float], float]] = Registry("LR schedule")


@LR_SCHEDULES.register("constant", help="the base learning rate throughout")
def _lr_constant(c: OptimizerConfig, t: int, frac: float) -> float:
    return 1.0


@LR_SCHEDULES.register("exponential", help="x gamma every 100 generator steps, continuously")
def _lr_exponential(c: OptimizerConfig, t: int, frac: float) -> float:
    return c.gamma ** (t / 100.0)


@LR_SCHEDULES.register("step", help="x gamma every step_size generator steps")
def _lr_step(c: OptimizerConfig, t: int, frac: float) -> float:
    return c.gamma ** (t // c.step_size)


def _decay_frac(c: OptimizerConfig, frac: float) -> float:
    """How far into its decay a run is: 0 until ``c.decay_start`` of the run, 1 at its end
    (the decay of the CycleGAN recipe's second half, with decay_start 0.5)."""
    return min(max(frac - c.decay_start, 0.0) / (1.0 - c.decay_start), 1.0)


@LR_SCHEDULES.register("linear", help="linear decay to 0 at the end of the run (train.iters or train.max_seconds, "
                                      "whichever comes first), from decay_start of it")
def _lr_linear(c: OptimizerConfig, t: int, frac: float) -> float:
    return 1.0 - _decay_frac(c, frac)


@LR_SCHEDULES.register("cosine", help="cosine decay to 0 at the end of the run (train.iters or train.max_seconds, "
                                      "whichever comes first), from decay_start of it")
def _lr_cosine(c: OptimizerConfig, t: int, frac: float) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * _decay_frac(c, frac)))


def lr_factor(c: OptimizerConfig, step: int, total: int, time_frac: float = 0.0) -> float:
    """Multiplier of the base learning rate at generator step ``step`` of ``total``
    (after a linear warm-up over ``c.warmup`` steps). ``time_frac`` is the fraction of a
    time budget used (0 without one); the run ends with whichever budget runs out first."""
    schedule = LR_SCHEDULES.get(c.schedule)
    warm = min(1.0, (step + 1) / c.warmup) if c.warmup > 0 else 1.0
    t = max(step - c.warmup, 0)
    frac = max(t / max(total - c.warmup, 1), time_frac)
    return warm * schedule(c, t, frac)


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
    """Exponential moving average of a module's parameters (buffers are copied).

    A fixed ``decay`` per update, or a half-life in images (StyleGAN2): after each update
    on ``batch`` images, beta = 0.5 ** (batch / half_life), so the weights' influence
    halves every ``half_life`` images whatever the batch size. With ``rampup``, the
    half-life is at most ``rampup`` x the images seen so far, so early (poor) weights
    are forgotten quickly."""

    def __init__(self, module: nn.Module, decay: Optional[float] = None, halflife_img: Optional[float] = None,
                 rampup: Optional[float] = None) -> None:
        if (decay is None) == (halflife_img is None):
            raise ValueError("EMA needs a decay or a half-life, not both")
        self.decay, self.halflife_img, self.rampup = decay, halflife_img, rampup
        self.module = copy.deepcopy(module).eval().requires_grad_(False)
        #: the averaged weights changed since their batch-norm statistics were last measured
        self.stale = True

    def beta(self, batch: int, images_seen: int) -> float:
        """The decay of the update that follows ``images_seen`` images (``batch`` of them new)."""
        if self.decay is not None:
            return self.decay
        h = float(self.halflife_img)
        if self.rampup is not None:
            h = min(h, images_seen * self.rampup)
        return 0.5 ** (batch / max(h, 1e-8))

    @torch.no_grad()
    def update(self, module: nn.Module, batch: int = 1, images_seen: int = 0) -> None:
        beta = self.beta(batch, images_seen)
        # one multi-tensor kernel for all weights instead of one launch per tensor (on a GPU
        # small networks are launch-bound); the same lerp, so the same values
        ema_p, src_p = list(self.module.parameters()), [p.detach() for p in module.parameters()]
        if ema_p:
            torch._foreach_lerp_(ema_p, src_p, 1.0 - beta)
        ema_b, src_b = list(self.module.buffers()), list(module.buffers())
        if ema_b:
            torch._foreach_copy_(ema_b, src_b)
        self.stale = True

    def refresh_batchnorm(self, batches: Callable[[], Iterable[tuple[torch.Tensor, ...]]]) -> None:
        """Measure the averaged weights' own batch-norm statistics (``recompute_batchnorm``)
        when they changed since the last call; ``batches`` makes the inputs (called only then)."""
        if self.stale and has_batch_norm(self.module):
            recompute_batchnorm(self.module, batches())
        self.stale = False


@torch.no_grad()
def recompute_batchnorm(module: nn.Module, batches: Iterable[tuple[torch.Tensor, ...]]) -> None:
    """Set every batch norm's running mean and variance in ``module`` to their average over
    ``batches`` (each a tuple of the module's inputs), leaving the weights as they are.

    An EMA of a generator's weights with the live generator's running statistics is a
    mismatch: those statistics belong to the live weights, and the further the average lags
    them (a long half-life, or early training, when the weights move fast) the more the
    averaged network's layers are mis-normalised (docs/results/ema_batchnorm.md measures
    it on the quality suite's runs). The same as torch.optim.swa_utils.update_bn
    does for averaged weights, but it passes every input of a batch (a conditional G needs
    its labels too) and restores the module's mode."""
    bns = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    was, momenta = module.training, [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches, not a decaying one
    module.train()
    try:
        for inputs in batches:
            module(*inputs)
    finally:
        for m, mom in zip(bns, momenta):
            m.momentum = mom
        module.train(was)
