"""The one training loop: critic phase (n_critic steps with loss, penalty and schedule),
generator phase, then callbacks. Models, losses, penalties, schedules and optimizers
come from registries and are built from the config's names.
"""
from __future__ import annotations

import math
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional

import torch
import torch.nn as nn

from ..augment import Augment
from ..config import Config
from ..data import Dataset
from ..errors import ConfigError, RunError
from ..models import build_models, sample_latent
from ..objectives import LOSSES, Observation, build_penalty, build_schedule
from ..optim import EMA, build_optimizer, grad_norm, lazy_corrected, lr_factor, set_lr
from .distributed import DistContext
from .health import HealthMonitor
from .sampling import BatchSource, rank_seed

FORMAT = 1  # checkpoint format version


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` picks CUDA when present; in a distributed run each rank takes its own GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RunError(f"train.device={name} but CUDA is not available on this machine; use --device cpu")
    if name == "cuda" and local_rank:
        name = f"cuda:{local_rank}"
    return torch.device(name)


class RunStatus(str, Enum):
    """How a run stands or ended (a str: ``RunStatus.FINISHED == "finished"``, and it is
    written to status.json as its value)."""

    RUNNING = "running"
    FINISHED = "finished"  #: the step or time budget was reached, or a callback stopped it
    INTERRUPTED = "interrupted"  #: a signal (Ctrl-C, SIGTERM) stopped it; it can be resumed
    PRUNED = "pruned"  #: a search's pruner stopped it
    FAILED = "failed"  #: the health monitor declared it diverged
    CRASHED = "crashed"  #: an exception escaped the loop

    def __str__(self) -> str:  # the word, in messages and f-strings, on every Python
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


# ---------------------------------------------------------------------- requests
# A callback never assigns to the trainer: it returns requests, and the loop applies them,
# in REQUEST_ORDER within one callback's answer, callback by callback in Callback.order.
# So what a callback may change is written here, in one place, and not spread over them.
@dataclass(frozen=True)
class Publish:
    """A new log record (``kind="log"``) or evaluation record (``"eval"``) for the callbacks
    after this one and for the run's result."""

    kind: str
    record: dict


@dataclass(frozen=True)
class ExcludeTime:
    """Seconds this step spent in work that is not training (evaluation): off the clock."""

    seconds: float


@dataclass(frozen=True)
class Warn:
    """A warning for the run's result (the callback has already shown and logged it)."""

    text: str


@dataclass(frozen=True)
class Fail:
    """The run is failing (``fatal``: its weights or samples are no longer finite)."""

    reason: str
    fatal: bool = True


@dataclass(frozen=True)
class Rollback:
    """Go back to ``state`` (an earlier checkpoint) with the learning rates x ``lr_factor``."""

    state: dict
    lr_factor: float


@dataclass(frozen=True)
class NewBest:
    """The best evaluation so far."""

    metric: str
    value: float
    step: int


@dataclass(frozen=True)
class Stop:
    """End the run after this step, with ``status`` (FINISHED unless said otherwise)."""

    reason: str
    status: RunStatus = RunStatus.FINISHED


REQUEST_ORDER = (Publish, ExcludeTime, Warn, Fail, Rollback, NewBest, Stop)


class Callback:
    """Hooks the loop calls; subclasses override what they need. Each hook gets a
    read-only view of the trainer and may return requests (an iterable, or None).

    ``order`` places the callback among the others (lower runs first): thread control 0,
    metrics 10, health 20, TensorBoard 30, sample grids 40, evaluation 50, user callbacks
    60 (the default), checkpoints 80, progress 90. A callback that reads what another
    publishes in the same step runs after it."""

    order: int = 60

    def on_start(self, t: "Trainer") -> Optional[Any]: ...
    def on_step(self, t: "Trainer", stats: dict[str, torch.Tensor]) -> Optional[Any]: ...
    def on_end(self, t: "Trainer") -> Optional[Any]: ...


class TrainerView:
    """What a callback sees of the trainer: everything to read and call, nothing to assign
    (a callback returns requests instead)."""

    __slots__ = ("_trainer",)

    def __init__(self, trainer: "Trainer") -> None:
        object.__setattr__(self, "_trainer", trainer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trainer, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a callback cannot assign trainer.{name}: return a request "
                             "(Publish, ExcludeTime, Warn, Fail, Rollback, NewBest, Stop) instead")


@dataclass
class StepContext:
    """One critic step's working values, passed from phase to phase."""

    real: torch.Tensor  #: the real batch as D sees it
    fake: torch.Tensor  #: the fake batch as D sees it (no graph to G)
    y: Optional[torch.Tensor]  #: labels (conditional runs)
    total: Any = 0.0  #: D's objective so far
    w: torch.Tensor = field(default_factory=lambda: torch.zeros(()))  #: mean D(real) - mean D(fake)
    stats: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class StepStats:
    """Running sums of per-step scalars between two log lines (tensors: no sync per step).
    Keys may appear in only some steps (detailed diagnostics): each is averaged over its own count."""

    sums: dict[str, torch.Tensor] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    count: int = 0

    def add(self, stats: dict[str, torch.Tensor]) -> None:
        for k, v in stats.items():
            v = v.detach().float() if isinstance(v, torch.Tensor) else torch.tensor(float(v))
            if k not in self.sums:
                self.sums[k], self.counts[k] = v, 1
            elif k.endswith("_max"):
                self.sums[k] = torch.maximum(self.sums[k], v)
            else:
                self.sums[k] = self.sums[k] + v
                self.counts[k] += 1
        self.count += 1

    def mean_tensors(self) -> dict[str, torch.Tensor]:
        out = {k: v if k.endswith("_max") else v / self.counts[k] for k, v in self.sums.items()}
        self.sums, self.counts, self.count = {}, {}, 0
        return out

    def means(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.mean_tensors().items()}


class Trainer:
    """Holds everything a run needs; ``fit()`` trains up to ``cfg.train.iters``."""

    def __init__(self, cfg: Config, data: Dataset, callbacks: list[Callback] | None = None,
                 dist: Optional[DistContext] = None) -> None:
        self.cfg = cfg
        self.data = data
        self.dist = dist or DistContext()
        self.device = resolve_device(cfg.train.device, self.dist.local_rank)
        if self.device.type == "cuda":
            # torch leaves TF32 matmuls off by default; a GAN's training gains far more speed
            # than it loses precision (docs/results/gpu_throughput.md)
            torch.backends.cuda.matmul.allow_tf32 = cfg.train.tf32
            torch.backends.cudnn.allow_tf32 = cfg.train.tf32
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        # per-rank share of the (global) batch sizes; a ConfigError when they do not divide
        self.d_batch = self.dist.local_batch(cfg.train.d_batch_size or cfg.train.batch_size,
                                             "train.d_batch_size" if cfg.train.d_batch_size else "train.batch_size")
        self.g_batch = self.dist.local_batch(cfg.train.g_batch_size or cfg.train.batch_size,
                                             "train.g_batch_size" if cfg.train.g_batch_size else "train.batch_size")
        self.check_model_fits(cfg, data)
        self._build_networks(cfg, data)
        self._build_objectives(cfg, data)
        self._build_sources(cfg, data)
        self._init_run_state(cfg, callbacks)

    def _build_networks(self, cfg: Config, data: Dataset) -> None:
        """G and D on the device (seeded: the same initial weights on every rank), the EMA
        copy, and the modules the differentiated forwards go through."""
        torch.manual_seed(cfg.train.seed)
        self.conditional = cfg.model.conditional
        self.num_classes = data.num_classes
        self.G, self.D = build_models(cfg.model, data.shape, data.num_classes)
        self.G.to(self.device)
        self.D.to(self.device)
        self.memory_format = torch.channels_last if cfg.train.channels_last and data.is_image else None
        if self.memory_format is not None:
            self.G.to(memory_format=self.memory_format)
            self.D.to(memory_format=self.memory_format)
        # the EMA copy keeps plain batch norm: it only ever runs in eval mode
        t = cfg.train
        self.ema = (EMA(self.G, t.ema_decay) if t.ema_decay else
                    EMA(self.G, halflife_img=t.ema_halflife_kimg * 1000, rampup=t.ema_rampup)
                    if t.ema_halflife_kimg else None)
        self.G = self.dist.sync_batchnorm(self.G, self.device)
        # G_train/D_train: the modules the differentiated forwards go through (DDP wrappers
        # in a distributed run: they average the gradients over ranks); G and D themselves
        # serve everything else (sampling, checkpoints, the penalty's input gradient)
        self.G_train = self.dist.wrap(self.G, self.device)
        self.D_train = self.dist.wrap(self.D, self.device)
        if self.dist.rank:  # dropout and instance noise: an independent global stream per rank
            torch.manual_seed(rank_seed(cfg.train.seed, self.dist.rank))

    def _build_objectives(self, cfg: Config, data: Dataset) -> None:
        """Loss, penalty, its schedule, augmentation, optimizers (and fp16 scalers)."""
        self.loss = LOSSES.get(cfg.loss.name)
        self.penalty = build_penalty(cfg.penalty.name, cfg.penalty.clip, cfg.penalty.term_weights)
        self.schedule = build_schedule(cfg.penalty)
        self.augment = Augment(cfg.augment, data.is_image)
        # lazy regularization (StyleGAN2): a penalty every k critic steps leaves D's
        # optimizer seeing k+1 gradients' worth of updates in k steps' time; its lr and
        # Adam betas are scaled by c = k/(k+1) to keep the effective step the same
        k = cfg.penalty.every
        self.d_lazy_ratio = k / (k + 1) if k > 1 and cfg.penalty.lazy_correction and self.penalty.needs_gradient else 1.0
        self.opt_g = build_optimizer(self.G.parameters(), cfg.optim.g)
        self.opt_d = build_optimizer(self.D.parameters(), lazy_corrected(cfg.optim.d, self.d_lazy_ratio))
        # float16 needs loss scaling (bf16 has float32's range and does not): one scaler
        # per optimizer, since G's and D's gradients live on different scales
        fp16 = cfg.train.precision == "fp16"
        self.scaler_d = torch.amp.GradScaler(self.device.type) if fp16 else None
        self.scaler_g = torch.amp.GradScaler(self.device.type) if fp16 else None

    def _build_sources(self, cfg: Config, data: Dataset) -> None:
        """The data on the device and the seeded streams every random draw comes from."""
        self.x = data.x.to(self.device)
        if self.memory_format is not None:
            self.x = self.x.contiguous(memory_format=self.memory_format)
        self.y = data.y.to(self.device) if data.y is not None else None
        self.source = self.make_source(self.dist.rank, self.dist.world)
        # IVGP with the distance measured on held-out reals: the critic cannot have
        # memorised them, so its overfitting does not read as the distributions meeting
        self.held: Optional[BatchSource] = None
        if cfg.penalty.schedule == "ivgp" and cfg.penalty.ivgp.distance == "holdout":
            if data.holdout_x is None:
                raise ConfigError("penalty.ivgp.distance=holdout needs held-out data: set data.holdout > 0")
            hx = data.holdout_x.to(self.device)
            hy = data.holdout_y.to(self.device) if self.conditional and data.holdout_y is not None else None
            w, r = self.dist.world, self.dist.rank
            self.held = BatchSource(hx[r::w], hy[r::w] if hy is not None else None, self.device,
                                    rank_seed(cfg.train.seed + 104729, self.dist.rank), cfg.model.z_dim,
                                    cfg.model.latent, memory_format=self.memory_format)

    def _init_run_state(self, cfg: Config, callbacks: Optional[list[Callback]]) -> None:
        """Counters, the health monitor, what callbacks publish, and the fixed latents of
        the sample grids."""
        self.health = HealthMonitor()
        self.step = 0  # completed generator steps
        self.critic_steps = 0
        self.elapsed = 0.0  # seconds of training (evaluation excluded), across resumes
        self.excluded = 0.0  # seconds spent this step in work not counted as training
        self.callbacks = callbacks or []
        self.last_record: dict[str, Any] = {}
        self.last_eval: dict[str, Any] = {}
        self.lr_scale = 1.0  # lowered by the divergence guard on each rollback
        self.rollbacks = 0
        self.detail = True
        self.best: dict[str, Any] = {}  # best evaluation so far: {"metric": "fid", "value": ..., "step": ...}
        self.warnings: list[str] = []
        self.stop_reason: Optional[str] = None
        self._stop_status = RunStatus.FINISHED
        self._stop_requested = False
        # a signal seen by this rank, not yet agreed with the others (distributed runs only)
        self._interrupt_pending = False
        g = torch.Generator().manual_seed(cfg.train.seed + 7919)
        self.fixed_z = sample_latent(cfg.train.n_sample, cfg.model.z_dim, cfg.model.latent, generator=g).to(self.device)
        self.fixed_y: Optional[torch.Tensor] = None
        self.grid_cols: Optional[int] = None
        if self.conditional:  # one row per class, one latent per column shared by the rows
            cols = max(1, cfg.train.n_sample // self.num_classes)
            self.fixed_z = self.fixed_z[:cols].repeat(self.num_classes, 1)
            self.fixed_y = torch.arange(self.num_classes, device=self.device).repeat_interleave(cols)
            self.grid_cols = cols

    # ------------------------------------------------------------------ pieces
    def check_model_fits(self, cfg: Config, data: Dataset) -> None:
        """ConfigError when G and D with their optimizer state cannot fit in memory (an
        absurd model.g_hidden would otherwise end in an allocator traceback)."""
        from ..resources import BYTES_PER_PARAM, count_parameters, require_fits

        try:
            n = count_parameters(lambda: build_models(cfg.model, data.shape, data.num_classes))
        except ConfigError:
            raise
        except Exception:  # an op without a meta kernel: the real build will tell
            return
        require_fits(n * BYTES_PER_PARAM, f"a model of {n / 1e6:,.0f}M parameters (weights, gradients, "
                     "optimizer state)", "make model.g_hidden, model.d_hidden or model.width smaller", self.device)

    @property
    def sampler(self) -> nn.Module:
        """The generator used for pictures and evaluation (EMA weights when on)."""
        return self.ema.module if self.ema is not None else self.G

    def make_source(self, rank: int, world: int) -> BatchSource:
        """The random draws of rank ``rank`` of ``world``: its shard of the data (every
        world-th example) and its own seeded stream."""
        y = self.y if self.conditional else None
        x = self.x
        stream = self.data.stream
        if world > 1:
            x, y = x[rank::world], (y[rank::world] if y is not None else None)
            if stream is not None:
                stream = stream.shard(rank, world)
        return BatchSource(x, y, self.device, rank_seed(self.cfg.train.seed, rank), self.cfg.model.z_dim,
                           self.cfg.model.latent, stream=stream, memory_format=self.memory_format)

    def g_forward(self, g: nn.Module, z: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        return g(z, y) if self.conditional else g(z)

    def critic(self, y: Optional[torch.Tensor]):
        """D as a function of x alone (labels bound), as the penalties expect."""
        if not self.conditional:
            return self.D
        return lambda x: self.D(x, y)

    def noise_std(self, step: int) -> float:
        r = self.cfg.reg
        if r.instance_noise <= 0:
            return 0.0
        span = r.noise_anneal or self.cfg.train.iters
        return r.instance_noise * max(0.0, 1.0 - step / max(span, 1))

    def weight_penalty(self, net: nn.Module, l1: float, l2: float) -> Optional[torch.Tensor]:
        if l1 <= 0 and l2 <= 0:
            return None
        ws = [p for n, p in net.named_parameters() if p.dim() > 1]  # weights, not biases or norms
        out = 0.0
        if l1 > 0:
            out = out + l1 * sum(w.abs().sum() for w in ws)
        if l2 > 0:
            out = out + l2 * sum(w.pow(2).sum() for w in ws)
        return out

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y: Optional[torch.Tensor] = None) -> torch.Tensor:
        g = self.sampler
        was = g.training
        g.eval()
        try:
            if self.conditional and y is None:
                y = torch.arange(z.shape[0], device=z.device) % self.num_classes
            return self.g_forward(g, z, y)
        finally:
            g.train(was)

    def generate_n(self, n: int, seed: int, chunk: int = 1000) -> torch.Tensor:
        """``n`` samples (on the CPU) from latents of their own seeded generator: the
        training RNG is untouched, so evaluating never changes a run."""
        g = torch.Generator().manual_seed(seed)
        z = sample_latent(n, self.cfg.model.z_dim, self.cfg.model.latent, generator=g)
        return torch.cat([self.generate(z[i:i + chunk].to(self.device)).cpu() for i in range(0, n, chunk)])

    # ------------------------------------------------------------------ one step
    # A critic step is four phases over one StepContext: batch (real and fake inputs, as D
    # sees them: instance noise, augmentation), D main (the adversarial loss), D
    # regularization (the scheduled penalty terms, lazily, and weight penalties), update.
    def critic_step(self, step: int, iters: int) -> dict[str, torch.Tensor]:
        ctx = self.d_batch_phase(step)
        self.d_main_phase(ctx)
        self.d_reg_phase(ctx, step, iters)
        self.opt_d.zero_grad(set_to_none=True)
        self._backward_step(ctx.total, self.opt_d, self.scaler_d, self.D, self.cfg.optim.d.grad_clip, ctx.stats,
                            "grad_norm_d")
        self.penalty.post_step(self.D)
        self.critic_steps += 1
        return ctx.stats

    def d_inputs(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """What D sees of ``x``: instance noise, then the augmentation (both differentiable)."""
        if sigma > 0:
            x = x + sigma * torch.randn_like(x)
        return self.augment(x, self.source) if self.augment.enabled else x

    def d_batch_phase(self, step: int) -> "StepContext":
        B = self.d_batch
        real, y = self.source.real(B)
        with torch.no_grad():
            fake = self.g_forward(self.G, self.source.latent(B), y)  # fakes share the real batch's labels
        sigma = self.noise_std(step)
        ctx = StepContext(real=self.d_inputs(real, sigma), fake=self.d_inputs(fake, sigma), y=y)
        if sigma > 0:
            ctx.stats["instance_noise"] = torch.tensor(sigma)
        return ctx

    def d_main_phase(self, ctx: "StepContext") -> None:
        B = ctx.real.shape[0]
        # one forward for both batches: D has no batch norm, so this equals two forwards
        both = torch.cat([ctx.real, ctx.fake])
        out = self.D_train(both, torch.cat([ctx.y, ctx.y])) if self.conditional else self.D_train(both)
        d_real, d_fake = out[:B], out[B:]
        loss_d = self.loss.d(d_real, d_fake, self.cfg.loss.real_label)
        ctx.w = d_real.mean().detach() - d_fake.mean().detach()
        ctx.stats.update(loss_d=loss_d.detach(), wasserstein=ctx.w, d_real=d_real.mean().detach(),
                         d_fake=d_fake.mean().detach())
        ctx.total = loss_d
        if self.augment.ada is not None:
            # a relativistic D's outputs have no fixed zero (only differences enter its
            # loss), so its overfitting signal is the sign of D(real) - D(fake), pair by pair
            self.augment.ada.observe(d_real - d_fake if self.loss.relativistic else d_real)
        if self.augment.enabled:
            ctx.stats["augment_p"] = torch.tensor(self.augment.ada.p if self.augment.ada else self.augment.p)
            if self.augment.ada is not None and math.isfinite(self.augment.ada.last_r):
                ctx.stats["ada_r"] = torch.tensor(self.augment.ada.last_r)

    def d_reg_phase(self, ctx: "StepContext", step: int, iters: int) -> None:
        cfg = self.cfg
        wp = self.weight_penalty(self.D, cfg.reg.d_l1, cfg.reg.d_l2)
        if wp is not None:
            ctx.total = ctx.total + wp
            ctx.stats["weight_penalty_d"] = wp.detach()
        if not self.penalty.needs_gradient:
            return
        # schedules see the distance over the whole (all-rank) batch
        wf = self.dist.mean(float(self.distance(ctx))) if self.schedule.uses_distance else math.nan
        dec = self.schedule.decide(Observation(step, iters, wf, self.run_fraction()))
        ctx.stats["penalty_weight"] = torch.tensor(dec.weight)
        for k, v in dec.stats.items():
            ctx.stats[k] = torch.tensor(float(v))
        every = cfg.penalty.every
        if self.critic_steps % every:
            return
        res = self.penalty(self.critic(ctx.y), ctx.real, ctx.fake,
                           dec.eps_low if self.penalty.uses_interpolation else 0.0,
                           rng=self.source, detail=self.detail or self.schedule.uses_feedback,
                           grad_scale=self.scaler_d.get_scale() if self.scaler_d is not None else 1.0)
        # lazy regularization: a penalty taken every k steps counts k times
        ctx.total = ctx.total + (dec.weight * every) * res.value
        ctx.stats["penalty"] = res.value.detach()
        ctx.stats.update(res.stats)
        if "gp_grad_norm" in res.stats and self.schedule.uses_feedback:
            self.schedule.feedback(self.dist.mean(float(res.stats["gp_grad_norm"])))

    def distance(self, ctx: "StepContext") -> torch.Tensor:
        """The distance the schedule sees: this step's W estimate, or (ivgp.distance=holdout)
        mean D on a held-out real batch minus mean D on this step's fakes."""
        if self.held is None:
            return ctx.w
        with torch.no_grad():
            xh, yh = self.held.real(ctx.real.shape[0])
            d_held = self.D(xh, yh) if self.conditional else self.D(xh)
        w = d_held.float().mean() - ctx.stats["d_fake"].float()
        ctx.stats["wasserstein_holdout"] = w
        return w

    def generator_step(self) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        B = self.g_batch
        sigma = self.noise_std(self.step)
        # D's weights need no gradient here: skip that work entirely
        self.D.requires_grad_(False)
        try:
            d_real = None
            if self.loss.relativistic:  # G's loss compares with D on a real batch (a constant here)
                real, y = self.source.real(B)
                with torch.no_grad():
                    xr = self.d_inputs(real, sigma)
                    d_real = self.D(xr, y) if self.conditional else self.D(xr)
            else:
                y = self.source.labels(B)
            fake = self.d_inputs(self.g_forward(self.G_train, self.source.latent(B), y), sigma)
            d_fake = self.D(fake, y) if self.conditional else self.D(fake)
            loss_g = self.loss.g(d_fake, d_real) if d_real is not None else self.loss.g(d_fake)
            wp = self.weight_penalty(self.G, cfg.reg.g_l1, cfg.reg.g_l2)
            if wp is not None:
                loss_g = loss_g + wp
            self.opt_g.zero_grad(set_to_none=True)
            out = {"loss_g": loss_g.detach()}
            self._backward_step(loss_g, self.opt_g, self.scaler_g, self.G, cfg.optim.g.grad_clip, out, "grad_norm_g")
        finally:
            self.D.requires_grad_(True)
        if self.ema is not None:
            # images seen by G so far, over all ranks (the EMA half-life counts images)
            self.ema.update(self.G, B * self.dist.world, (self.step + 1) * B * self.dist.world)
        return out

    def _backward_step(self, loss: torch.Tensor, opt: torch.optim.Optimizer, scaler: Optional[torch.amp.GradScaler],
                       net: nn.Module, clip: Optional[float], stats: dict[str, torch.Tensor], key: str) -> None:
        """Backward, optional clipping (its pre-clip norm logged), optimizer step; with
        float16, through the grad scaler (a step with inf/NaN gradients is skipped and the
        scale lowered)."""
        if scaler is None:
            loss.backward()
            if self.detail or clip is not None:
                stats[key] = grad_norm(net.parameters(), clip)
            opt.step()
            return
        scaler.scale(loss).backward()
        if self.detail or clip is not None:
            scaler.unscale_(opt)  # clip and log true gradients, not scaled ones
            stats[key] = grad_norm(net.parameters(), clip)
        scaler.step(opt)
        scaler.update()
        if self.detail:
            stats[key.replace("grad_norm", "grad_scale")] = torch.tensor(scaler.get_scale())

    def time_fraction(self) -> float:
        """Fraction of the time budget (train.max_seconds) used; 0 without one."""
        budget = self.cfg.train.max_seconds
        return min(self.elapsed / budget, 1.0) if budget else 0.0

    def run_fraction(self) -> float:
        """Fraction of the run done: the larger of the steps' and the time budget's, so that
        what decays over "the run" ends when either budget does."""
        return min(max(self.step / max(self.cfg.train.iters, 1), self.time_fraction()), 1.0)

    def train_step(self) -> dict[str, torch.Tensor]:
        cfg, step, iters = self.cfg, self.step, self.cfg.train.iters
        # full diagnostics (gradient norms, penalty-point statistics) only on steps that
        # end in a log line: they cost real time on small models and nobody reads the rest
        self.detail = (step + 1) % cfg.train.log_every == 0 or step + 1 == iters
        tf = self.time_fraction()
        lr_g = set_lr(self.opt_g, cfg.optim.g.lr * self.lr_scale, lr_factor(cfg.optim.g, step, iters, tf))
        lr_d = set_lr(self.opt_d, cfg.optim.d.lr * self.d_lazy_ratio * self.lr_scale,
                      lr_factor(cfg.optim.d, step, iters, tf))
        acc = StepStats()
        with self.autocast():
            for _ in range(cfg.train.n_critic):
                acc.add(self.critic_step(step, iters))
            stats = acc.mean_tensors()
            stats.update(self.generator_step())
        stats["lr_g"] = torch.tensor(lr_g)
        stats["lr_d"] = torch.tensor(lr_d)
        self.step += 1
        return stats

    def weights_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for m in (self.G, self.D) for p in m.parameters())

    def autocast(self):
        """Autocast of the forward passes when train.precision is bf16 or fp16 (weights stay fp32)."""
        p = self.cfg.train.precision
        return torch.autocast(device_type=self.device.type, dtype=torch.float16 if p == "fp16" else torch.bfloat16,
                              enabled=p != "fp32")

    # ------------------------------------------------------------------ loop
    def request_stop(self, reason: str, status: RunStatus = RunStatus.FINISHED) -> None:
        self.stop_reason = reason
        self._stop_status = status
        self._stop_requested = True

    @property
    def status(self) -> RunStatus:
        """How the run ended (or stands): FAILED when the health monitor's verdict is fatal,
        else what the last stop said (FINISHED when nothing stopped it early)."""
        if self.health.fatal:
            return RunStatus.FAILED
        return self._stop_status if self._stop_requested else RunStatus.FINISHED

    def apply(self, requests: Optional[Any]) -> None:
        """Carry out what a callback asked for, in REQUEST_ORDER."""
        if not requests:
            return
        for r in sorted(requests, key=lambda r: REQUEST_ORDER.index(type(r))):
            if isinstance(r, Publish):
                if r.kind == "log":
                    self.last_record = r.record
                else:
                    self.last_eval = r.record
            elif isinstance(r, ExcludeTime):
                self.excluded += r.seconds
            elif isinstance(r, Warn):
                self.warnings.append(r.text)
            elif isinstance(r, Fail):
                self.health.failed = self.health.failed or r.reason
                self.health.fatal = self.health.fatal or r.fatal
            elif isinstance(r, Rollback):
                # the checkpoint holds the lr scale and rollback count of its own time
                lr_scale, rollbacks = self.lr_scale * r.lr_factor, self.rollbacks + 1
                self.load_state_dict(r.state)
                self.lr_scale, self.rollbacks = lr_scale, rollbacks
                self.health.fatal, self.health.failed = False, None
                self.last_record = {}
            elif isinstance(r, NewBest):
                self.best = {"metric": r.metric, "value": r.value, "step": r.step}
            elif isinstance(r, Stop):
                self.request_stop(r.reason, r.status)

    def _fire(self, hook: str, *args: Any) -> None:
        view = TrainerView(self)
        for cb in self.callbacks:
            self.apply(getattr(cb, hook)(view, *args))

    def fit(self, handle_signals: bool = False) -> None:
        restore = self._install_signals() if handle_signals else None
        # declared order, not the order of the list handed in (stable among equals)
        self.callbacks = sorted(self.callbacks, key=lambda cb: getattr(cb, "order", 60))
        try:
            self._fire("on_start")
            t_last = time.perf_counter()
            budget = self.cfg.train.max_seconds
            while self.step < self.cfg.train.iters and not self._stop_requested:
                if budget is not None and self.elapsed >= budget:
                    self.stop_reason = f"time budget of {budget:g} s reached"
                    break
                stats = self.train_step()
                now = time.perf_counter()
                self.elapsed += now - t_last - self.excluded
                self.excluded = 0.0
                t_last = now
                self._fire("on_step", stats)
                if self.dist.enabled:
                    self._sync_flags()
            if self.dist.enabled:  # every rank reports what rank 0 saw
                self.stop_reason, self._stop_status, self._stop_requested = self.dist.broadcast(
                    (self.stop_reason, self._stop_status, self._stop_requested))
            self._fire("on_end")
        finally:
            if restore:
                restore()

    def _sync_flags(self) -> None:
        """A stop request (a signal reaches each rank at its own moment, evaluation and
        sample checks run on rank 0 only) or a fatal health verdict on any rank holds
        for all ranks from the same step on, so their collectives stay in step."""
        stop, fatal = self.dist.any(self._stop_requested or self._interrupt_pending, self.health.fatal)
        if self.cfg.train.max_seconds is not None:
            # each rank times itself, so one clock must decide for all: every rank then stops
            # at the same step and sees the same time-driven learning rate and penalty
            # weight. The smallest: rank 0 excludes its evaluation and sampling from its
            # clock, while the other ranks count the time they wait for it in a collective
            self.elapsed = self.dist.min(self.elapsed)
        if stop and not self._stop_requested:
            self.request_stop("interrupted", RunStatus.INTERRUPTED)
        if fatal and not self.health.fatal:
            self.health.fatal = True
            self.health.failed = self.health.failed or "non-finite values on another process"

    def _install_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            if self._interrupt_pending or (self._stop_requested and self._stop_status is RunStatus.INTERRUPTED):
                raise KeyboardInterrupt  # second Ctrl-C: leave at once
            if self.dist.enabled:
                # each rank gets the signal at its own moment: stopping here could leave the
                # loop on this rank while another enters the next step's collectives (a
                # deadlock); the stop takes effect at the next agreement, on every rank at once
                self._interrupt_pending = True
            else:
                self.request_stop("interrupted", RunStatus.INTERRUPTED)

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        return lambda: [signal.signal(s, h) for s, h in old.items()]

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "format": FORMAT, "step": self.step, "critic_steps": self.critic_steps, "elapsed": self.elapsed,
            "config": self.cfg.to_dict(), "G": self.G.state_dict(), "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "ema": self.ema.module.state_dict() if self.ema is not None else None,
            "schedule": self.schedule.state_dict(), "health": self.health.state_dict(), "rng": rng,
            "augment": self.augment.state_dict(),
            "source": self.source.state_dict(), "best": dict(self.best), "lr_scale": self.lr_scale,
            "held": self.held.state_dict() if self.held is not None else None,
            "rollbacks": self.rollbacks, "world": self.dist.world,
            "scalers": [s.state_dict() if s is not None else None for s in (self.scaler_d, self.scaler_g)],
        }

    def checkpoint_state(self) -> Optional[dict[str, Any]]:
        """The state to checkpoint. In a distributed run every rank must call this (it
        gathers each rank's random streams, so a resumed run continues each of them);
        rank 0 gets the state, the others None."""
        s = self.state_dict()
        if not self.dist.enabled:
            return s
        ranks = self.dist.gather({"rng": s["rng"], "source": s["source"], "held": s["held"]})
        if not self.dist.is_main:
            return None
        s["ranks"] = ranks
        return s

    def load_state_dict(self, s: dict[str, Any]) -> None:
        if s.get("format") != FORMAT:
            raise RunError(f"checkpoint format {s.get('format')} is not supported (expected {FORMAT})")
        try:
            self.G.load_state_dict(s["G"])
            self.D.load_state_dict(s["D"])
            self.opt_g.load_state_dict(s["opt_g"])
            self.opt_d.load_state_dict(s["opt_d"])
            if self.ema is not None:
                if s.get("ema") is None:
                    raise RunError("the checkpoint has no EMA weights but train.ema_decay is set")
                self.ema.module.load_state_dict(s["ema"])
        except (RuntimeError, KeyError, ValueError) as e:
            raise RunError(f"checkpoint does not fit this config (changed model or optimizer?): {str(e).splitlines()[0]}") from None
        self.schedule.load_state_dict(s["schedule"]) if s.get("schedule") else None
        self.augment.load_state_dict(s.get("augment") or {})
        self.health.load_state_dict(s.get("health") or {})
        self.best = dict(s.get("best") or {})
        self.lr_scale = float(s.get("lr_scale", 1.0))
        for sc, st in zip((self.scaler_d, self.scaler_g), s.get("scalers") or (None, None), strict=True):
            if sc is not None and st:
                sc.load_state_dict(st)
        self.rollbacks = int(s.get("rollbacks", 0))
        self.step, self.critic_steps, self.elapsed = int(s["step"]), int(s["critic_steps"]), float(s["elapsed"])
        mine = {"rng": s["rng"], "source": s.get("source"), "held": s.get("held")}
        ranks = s.get("ranks") or [mine]
        if len(ranks) == self.dist.world:
            mine = ranks[self.dist.rank]
        else:  # another number of processes: same weights, fresh per-rank streams
            warnings.warn(f"the checkpoint was written by {len(ranks)} process(es), this run has "
                          f"{self.dist.world}: the weights continue, the random streams restart")
            return
        torch.set_rng_state(mine["rng"]["torch"])
        if "cuda" in mine["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(mine["rng"]["cuda"], self.device)
        if mine.get("source") is not None:
            self.source.load_state_dict(mine["source"])
        if self.held is not None and mine.get("held") is not None:
            self.held.load_state_dict(mine["held"])
