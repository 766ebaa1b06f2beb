"""The step part of a run: one generator step (``n_critic`` critic steps, then the
generator's) with its objectives, optimizers, gradient scalers, autocast and the seeded
random streams it draws from. What the benchmarks time; it reads no clock and keeps no
run counters beyond the critic steps it took (the fit loop owns those).

A critic step is four phases over one StepContext: batch (real and fake inputs, as D sees
them: instance noise, augmentation), D main (the adversarial loss), D regularization (the
scheduled penalty terms, lazily, and weight penalties), update."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
import torch.nn as nn

from ..augment import Augment
from ..config import Config
from ..data import Dataset
from ..errors import ConfigError
from ..models.layers import has_batch_norm, has_minibatch_std
from ..objectives import LOSSES, Observation, build_penalty, build_schedule
from ..optim import build_optimizer, grad_norm, lazy_corrected, lr_factor, set_lr
from .distributed import DistContext
from .model import GANModel, resolve_precision
from .sampling import BatchSource, rank_seed


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


def _scalar(v: Any) -> torch.Tensor:
    """A stat as a tensor: a device tensor stays where it is (no read), a number becomes one."""
    return v.detach().clone() if isinstance(v, torch.Tensor) else torch.tensor(float(v))


class TrainStep:
    """Builds the objectives, optimizers and random streams for ``model`` and runs one
    generator step at a time (:meth:`run`)."""

    def __init__(self, cfg: Config, data: Dataset, model: GANModel, dist: Optional[DistContext] = None) -> None:
        self.cfg, self.data, self.model = cfg, data, model
        self.dist = dist or DistContext()
        self.device = model.device
        #: the autocast precision in use: train.precision, with auto decided for this device
        self.precision = resolve_precision(cfg.train.precision, self.device)
        # per-rank share of the (global) batch sizes; a ConfigError when they do not divide
        self.d_batch = self.dist.local_batch(cfg.train.d_batch_size or cfg.train.batch_size,
                                             "train.d_batch_size" if cfg.train.d_batch_size else "train.batch_size")
        self.g_batch = self.dist.local_batch(cfg.train.g_batch_size or cfg.train.batch_size,
                                             "train.g_batch_size" if cfg.train.g_batch_size else "train.batch_size")
        self.critic_steps = 0
        #: D's output for one image depends on its batch (model.d_norm=batch, or model.d_mbstd):
        #: real and generated batches go through it apart, so neither sees the other's statistics
        self._d_batch_dependent = has_batch_norm(model.D) or has_minibatch_std(model.D)
        self.detail = True  #: full diagnostics this step (gradient norms, penalty-point statistics)
        #: train.reuse_fakes: the last critic step's raw fakes (with their graph to G) and
        #: labels, held for the generator step, which backpropagates through them. G is not
        #: updated in between, so its gradient is the one a fresh forward of the same latents
        #: would give (the PyTorch DCGAN tutorial's loop); one G forward a step less
        self._kept: Optional[tuple[torch.Tensor, Optional[torch.Tensor]]] = None
        self._build_objectives(cfg, data)
        self._build_sources(cfg, data)
        #: whether the step may read a device value on the host. On a CPU a read costs
        #: nothing; on a GPU it waits for the queue to drain, so there the step keeps what it
        #: decides from (ADA's p) on the device and the loop reads stats every log_every
        self.host_reads = True
        if self.device.type != "cpu":
            self.defer_host_reads()

    def defer_host_reads(self) -> None:
        """No host read of a device value inside a step from now on (what a GPU step does;
        a CPU run can ask for it too, as the tests do). What still reads: the ``pi`` schedule
        (its weight is decided on the host from the penalty's gradient norm), ``ivgp`` in a
        multi-process run (its distance is averaged over the ranks there) and float16's grad
        scaler."""
        self.host_reads = False
        self.augment.defer()

    @property
    def _defer_distance(self) -> bool:
        """The schedule decides from W_t on the device (not in a multi-process run, where
        the distance is averaged over the ranks on the host)."""
        return not self.host_reads and self.schedule.deferrable and not self.dist.enabled

    def host_read_reasons(self) -> list[str]:
        """Why this run's step must still read device values on the host (empty: none)."""
        out = []
        if self.penalty.needs_gradient and ((self.schedule.uses_distance and not self._defer_distance)
                                            or self.schedule.uses_feedback):
            why = ("in a multi-process run (its distance is averaged over the ranks on the host)"
                   if self.schedule.deferrable else "every critic step")
            out.append(f"penalty.schedule={self.cfg.penalty.schedule} decides its weight on the host {why}")
        if self.scaler_d is not None:
            out.append("train.precision=fp16's grad scaler decides on the host whether to skip a step")
        return out

    def run(self, step: int, iters: int, time_fraction: float = 0.0, lr_scale: float = 1.0) -> dict[str, torch.Tensor]:
        """Generator step ``step`` (0-based) of ``iters``; ``time_fraction`` is the share of
        the time budget used (0 without one), the learning rates are x ``lr_scale``."""
        cfg = self.cfg
        # full diagnostics only on steps that end in a log line: they cost real time on
        # small models and nobody reads the rest
        self.detail = (step + 1) % cfg.train.log_every == 0 or step + 1 == iters
        # what decays over "the run" ends when either budget does
        fraction = min(max(step / max(iters, 1), time_fraction), 1.0)
        lr_g = set_lr(self.opt_g, cfg.optim.g.lr * lr_scale, lr_factor(cfg.optim.g, step, iters, time_fraction))
        lr_d = set_lr(self.opt_d, cfg.optim.d.lr * self.d_lazy_ratio * lr_scale,
                      lr_factor(cfg.optim.d, step, iters, time_fraction))
        acc = StepStats()
        for i in range(cfg.train.n_critic):
            acc.add(self.critic_step(step, iters, fraction, keep_fakes=cfg.train.reuse_fakes and i == cfg.train.n_critic - 1))
        stats = acc.mean_tensors()
        stats.update(self.generator_step(step))
        stats["lr_g"] = torch.tensor(lr_g)
        stats["lr_d"] = torch.tensor(lr_d)
        return stats

    def state_dict(self) -> dict[str, Any]:
        return {"opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "schedule": self.schedule.state_dict(), "augment": self.augment.state_dict(),
                "source": self.source.state_dict(), "held": self.held.state_dict() if self.held is not None else None,
                "scalers": [s.state_dict() if s is not None else None for s in (self.scaler_d, self.scaler_g)]}

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
        self.opt_g = build_optimizer(self.model.G.parameters(), cfg.optim.g)
        self.opt_d = build_optimizer(self.model.D.parameters(), lazy_corrected(cfg.optim.d, self.d_lazy_ratio))
        # float16 needs loss scaling (bf16 has float32's range and does not): one scaler
        # per optimizer, since G's and D's gradients live on different scales
        fp16 = self.precision == "fp16"
        self.scaler_d = torch.amp.GradScaler(self.device.type) if fp16 else None
        self.scaler_g = torch.amp.GradScaler(self.device.type) if fp16 else None

    def _build_sources(self, cfg: Config, data: Dataset) -> None:
        """The data on the device and the seeded streams every random draw comes from."""
        self.x = data.x.to(self.device)
        if self.model.memory_format is not None:
            self.x = self.x.contiguous(memory_format=self.model.memory_format)
        self.y = data.y.to(self.device) if data.y is not None else None
        self.source = self.make_source(self.dist.rank, self.dist.world)
        # IVGP with the distance measured on held-out reals: the critic cannot have
        # memorised them, so its overfitting does not read as the distributions meeting
        self.held: Optional[BatchSource] = None
        if cfg.penalty.schedule == "ivgp" and cfg.penalty.ivgp.distance == "holdout":
            if data.holdout_x is None:
                raise ConfigError("penalty.ivgp.distance=holdout needs held-out data: set data.holdout > 0")
            hx = data.holdout_x.to(self.device)
            hy = data.holdout_y.to(self.device) if self.model.conditional and data.holdout_y is not None else None
            w, r = self.dist.world, self.dist.rank
            self.held = BatchSource(hx[r::w], hy[r::w] if hy is not None else None, self.device,
                                    rank_seed(cfg.train.seed + 104729, self.dist.rank), cfg.model.z_dim,
                                    cfg.model.latent, memory_format=self.model.memory_format)

    def make_source(self, rank: int, world: int) -> BatchSource:
        """The random draws of rank ``rank`` of ``world``: its shard of the data (every
        world-th example) and its own seeded stream."""
        y = self.y if self.model.conditional else None
        x = self.x
        stream = self.data.stream
        if world > 1:
            x, y = x[rank::world], (y[rank::world] if y is not None else None)
            if stream is not None:
                stream = stream.shard(rank, world)
        return BatchSource(x, y, self.device, rank_seed(self.cfg.train.seed, rank), self.cfg.model.z_dim,
                           self.cfg.model.latent, stream=stream, memory_format=self.model.memory_format)

    def critic(self, y: Optional[torch.Tensor]):
        """D as a function of x alone (labels bound), as the penalties expect."""
        if not self.model.conditional:
            return self.model.D
        return lambda x: self.model.D(x, y)

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

    # A critic step is four phases over one StepContext: batch (real and fake inputs, as D
    # sees them: instance noise, augmentation), D main (the adversarial loss), D
    # regularization (the scheduled penalty terms, lazily, and weight penalties), update.
    def critic_step(self, step: int, iters: int, fraction: float = 0.0, keep_fakes: bool = False) -> dict[str, torch.Tensor]:
        """One D step; ``fraction`` is the share of the run done (for the schedules);
        ``keep_fakes``: generate with G's graph and hold the fakes for the generator step."""
        # autocast covers the forward phases only and ends before the update: its cache of
        # low-precision weight copies lives as long as the context, so a context around
        # several updates (n_critic > 1) would feed later steps D's stale weights
        with self.autocast():
            ctx = self.d_batch_phase(step, keep_fakes)
            self.d_main_phase(ctx)
            self.d_reg_phase(ctx, step, iters, fraction)
        self.opt_d.zero_grad(set_to_none=True)
        self._backward_step(ctx.total, self.opt_d, self.scaler_d, self.model.D, self.cfg.optim.d.grad_clip, ctx.stats,
                            "grad_norm_d")
        self.penalty.post_step(self.model.D)
        self.critic_steps += 1
        return ctx.stats

    def d_inputs(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """What D sees of ``x``: instance noise, then the augmentation (both differentiable)."""
        if sigma > 0:
            x = x + sigma * torch.randn_like(x)
        return self.augment(x, self.source) if self.augment.enabled else x

    def d_batch_phase(self, step: int, keep_fakes: bool = False) -> "StepContext":
        B = self.d_batch
        real, y = self.source.real(B)
        if keep_fakes:  # through G_train (the DDP wrapper): the G step backpropagates through these
            kept = self.model.g_forward(self.model.G_train, self.source.latent(B), y)
            self._kept = (kept, y)
            fake = kept.detach()
        else:
            with torch.no_grad():
                fake = self.model.g_forward(self.model.G, self.source.latent(B), y)  # fakes share the real batch's labels
        sigma = self.noise_std(step)
        ctx = StepContext(real=self.d_inputs(real, sigma), fake=self.d_inputs(fake, sigma), y=y)
        if sigma > 0:
            ctx.stats["instance_noise"] = torch.tensor(sigma)
        return ctx

    def d_main_phase(self, ctx: "StepContext") -> None:
        B = ctx.real.shape[0]
        if self._d_batch_dependent:  # each batch seen alone, as DCGAN trains a batch-normed D
            d_real = self.model.d_forward(ctx.real, ctx.y, train=True)
            d_fake = self.model.d_forward(ctx.fake, ctx.y, train=True)
        else:  # one forward for both batches: with no batch-dependent layer this equals two forwards
            both = torch.cat([ctx.real, ctx.fake])
            out = self.model.d_forward(both, torch.cat([ctx.y, ctx.y]) if ctx.y is not None else None, train=True)
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
            ada = self.augment.ada
            ctx.stats["augment_p"] = _scalar(ada.p if ada else self.augment.p)
            if ada is not None and ada.updates:  # r exists once an interval has closed
                ctx.stats["ada_r"] = _scalar(ada.last_r)

    def d_reg_phase(self, ctx: "StepContext", step: int, iters: int, fraction: float) -> None:
        cfg = self.cfg
        wp = self.weight_penalty(self.model.D, cfg.reg.d_l1, cfg.reg.d_l2)
        if wp is not None:
            ctx.total = ctx.total + wp
            ctx.stats["weight_penalty_d"] = wp.detach()
        if not self.penalty.needs_gradient:
            return
        # schedules see the distance over the whole (all-rank) batch; a deferred step hands
        # a schedule that can take it the device tensor itself (no read)
        if not self.schedule.uses_distance:
            wf: Any = math.nan
        elif self._defer_distance:
            wf = self.distance(ctx)
        else:
            wf = self.dist.mean(float(self.distance(ctx)))
        dec = self.schedule.decide(Observation(step, iters, wf, fraction))
        ctx.stats["penalty_weight"] = _scalar(dec.weight)
        for k, v in dec.stats.items():
            ctx.stats[k] = _scalar(v)
        every = cfg.penalty.every
        if self.critic_steps % every:
            return
        res = self.penalty(self.critic(ctx.y), ctx.real, ctx.fake,
                           dec.eps_low if self.penalty.uses_interpolation else 0.0,
                           rng=self.source, detail=self.detail or self.schedule.uses_feedback,
                           grad_scale=self.scaler_d.get_scale() if self.scaler_d is not None else 1.0)
        # lazy regularization: a penalty taken every k steps counts k times (a deferred
        # weight is float64 on the device: rounded to the loss's precision as a Python
        # float would be, so the objective stays float32)
        k_weight = dec.weight * every
        if isinstance(k_weight, torch.Tensor):
            k_weight = k_weight.to(res.value.dtype)
        ctx.total = ctx.total + k_weight * res.value
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
            d_held = self.model.d_forward(xh, yh)
        w = d_held.float().mean() - ctx.stats["d_fake"].float()
        ctx.stats["wasserstein_holdout"] = w
        return w

    def generator_step(self, step: int) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        B = self.g_batch
        sigma = self.noise_std(step)
        # D's weights need no gradient here: skip that work entirely
        self.model.D.requires_grad_(False)
        try:
            kept, self._kept = self._kept, None
            with self.autocast():  # the forward only, as in critic_step
                d_real = None
                if self.loss.relativistic:  # G's loss compares with D on a real batch (a constant here)
                    real, y = self.source.real(B)
                    with torch.no_grad():
                        xr = self.d_inputs(real, sigma)
                        d_real = self.model.d_forward(xr, y)
                if kept is not None:  # train.reuse_fakes: the last critic step's fakes (and labels), freshly augmented
                    raw, y = kept
                else:
                    if not self.loss.relativistic:
                        y = self.source.labels(B)
                    raw = self.model.g_forward(self.model.G_train, self.source.latent(B), y)
                fake = self.d_inputs(raw, sigma)
                d_fake = self.model.d_forward(fake, y)
                loss_g = self.loss.g(d_fake, d_real) if d_real is not None else self.loss.g(d_fake)
            wp = self.weight_penalty(self.model.G, cfg.reg.g_l1, cfg.reg.g_l2)
            if wp is not None:
                loss_g = loss_g + wp
            self.opt_g.zero_grad(set_to_none=True)
            out = {"loss_g": loss_g.detach()}
            self._backward_step(loss_g, self.opt_g, self.scaler_g, self.model.G, cfg.optim.g.grad_clip, out, "grad_norm_g")
        finally:
            self.model.D.requires_grad_(True)
        if self.model.ema is not None:
            # images seen by G so far, over all ranks (the EMA half-life counts images)
            self.model.ema.update(self.model.G, B * self.dist.world, (step + 1) * B * self.dist.world)
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

    def autocast(self):
        """Autocast of the forward passes when train.precision is bf16 or fp16 (weights stay fp32)."""
        p = self.precision
        return torch.autocast(device_type=self.device.type, dtype=torch.float16 if p == "fp16" else torch.bfloat16,
                              enabled=p != "fp32")

    # ------------------------------------------------------------------ loop
