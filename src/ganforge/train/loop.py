"""The one training loop: critic phase (n_critic steps with loss, penalty and schedule),
generator phase, then callbacks. Models, losses, penalties, schedules and optimizers
come from registries and are built from the config's names.
"""
from __future__ import annotations

import signal
import threading
import time
import warnings
from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional

import torch
import torch.nn as nn

from ..config import Config
from ..data import Dataset
from ..errors import RunError
from ..models import sample_latent
from .distributed import DistContext
from .model import GANModel, resolve_device
from .step import StepContext, StepStats, TrainStep

__all__ = ["Trainer", "TrainerView", "Callback", "RunStatus", "REQUEST_ORDER", "Publish", "ExcludeTime", "Warn",
           "Fail", "Rollback", "NewBest", "Stop", "StepContext", "StepStats", "GANModel", "TrainStep",
           "resolve_device"]

FORMAT = 1  # checkpoint format version


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
class Measure:
    """A scalar for this step's stats, seen by the callbacks after this one (the metrics
    logger averages it into the next log line)."""

    name: str
    value: float


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


REQUEST_ORDER = (Measure, Publish, ExcludeTime, Warn, Fail, Rollback, NewBest, Stop)


class Callback:
    """Hooks the loop calls; subclasses override what they need. Each hook gets a
    read-only view of the trainer and may return requests (an iterable, or None).

    ``order`` places the callback among the others (lower runs first): thread control 0,
    metrics 10, health 20, TensorBoard 30, sample grids 40, evaluation 50, user callbacks
    60 (the default), checkpoints 80, progress 90. A callback that reads what another
    publishes in the same step runs after it."""

    order: int = 60
    #: a callback with state to keep across a resume names it here; the trainer then puts
    #: its ``state_dict()`` in every checkpoint under ``callbacks[state_key]`` and hands it
    #: back to ``load_state_dict`` on a resume or rollback
    state_key: Optional[str] = None

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

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
                             "(Measure, Publish, ExcludeTime, Warn, Fail, Rollback, NewBest, Stop) instead")


def _forward(part: str, name: str, doc: str = "") -> property:
    """A Trainer attribute that lives in one of its parts (read and, for tests and
    benchmarks that swap a piece, write)."""
    return property(lambda self: getattr(getattr(self, part), name),
                    lambda self, v: setattr(getattr(self, part), name, v), doc=doc or f"``{part}.{name}``")


class Trainer:
    """The fit loop over a run's two parts: ``model`` (a :class:`GANModel`: G, D, EMA,
    sampling) and ``stepper`` (a :class:`TrainStep`: one generator step with its
    optimizers). The loop owns the clock, the step counter, the callbacks and the requests
    they return, signals, the distributed agreement and the checkpoint state.
    ``fit()`` trains up to ``cfg.train.iters``."""

    # the parts' attributes, readable from the trainer (callbacks see these through TrainerView)
    G = _forward("model", "G")
    D = _forward("model", "D")
    ema = _forward("model", "ema")
    conditional = _forward("model", "conditional")
    num_classes = _forward("model", "num_classes")
    memory_format = _forward("model", "memory_format")
    sampler = _forward("model", "sampler")
    opt_g = _forward("stepper", "opt_g")
    opt_d = _forward("stepper", "opt_d")
    scaler_d = _forward("stepper", "scaler_d")
    scaler_g = _forward("stepper", "scaler_g")
    source = _forward("stepper", "source")
    held = _forward("stepper", "held")
    schedule = _forward("stepper", "schedule")
    augment = _forward("stepper", "augment")
    penalty = _forward("stepper", "penalty")
    loss = _forward("stepper", "loss")
    x = _forward("stepper", "x")
    critic_steps = _forward("stepper", "critic_steps")
    detail = _forward("stepper", "detail")

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
        self.model = GANModel(cfg, data, self.device, self.dist)
        self.stepper = TrainStep(cfg, data, self.model, self.dist)
        self._init_run_state(cfg, callbacks)

    def _init_run_state(self, cfg: Config, callbacks: Optional[list[Callback]]) -> None:
        """Counters, the failure verdict, what callbacks publish, and the fixed latents of
        the sample grids."""
        self.failure: Optional[str] = None  #: why the run is failing (a Fail request said so)
        self.fatal = False  #: non-finite weights or samples: nothing sensible can follow
        self._stats: dict[str, torch.Tensor] = {}  #: this step's stats, while the callbacks run
        self.step = 0  # completed generator steps
        self.elapsed = 0.0  # seconds of training (evaluation excluded), across resumes
        self.excluded = 0.0  # seconds spent this step in work not counted as training
        self.callbacks = callbacks or []
        self.last_record: dict[str, Any] = {}
        self.last_eval: dict[str, Any] = {}
        self.lr_scale = 1.0  # lowered by the divergence guard on each rollback
        self.rollbacks = 0
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

    # ------------------------------------------------------------------ the parts, for callers
    def generate(self, z: torch.Tensor, y: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.model.generate(z, y)

    def generate_n(self, n: int, seed: int, chunk: int = 1000) -> torch.Tensor:
        return self.model.generate_n(n, seed, chunk)

    def weights_finite(self) -> bool:
        return self.model.weights_finite()

    def make_source(self, rank: int, world: int):
        return self.stepper.make_source(rank, world)

    def weight_penalty(self, net: nn.Module, l1: float, l2: float) -> Optional[torch.Tensor]:
        return self.stepper.weight_penalty(net, l1, l2)

    def critic_step(self, step: int, iters: int) -> dict[str, torch.Tensor]:
        return self.stepper.critic_step(step, iters, self.run_fraction())

    def autocast(self):
        return self.stepper.autocast()

    def time_fraction(self) -> float:
        """Fraction of the time budget (train.max_seconds) used; 0 without one."""
        budget = self.cfg.train.max_seconds
        return min(self.elapsed / budget, 1.0) if budget else 0.0

    def run_fraction(self) -> float:
        """Fraction of the run done: the larger of the steps' and the time budget's, so that
        what decays over "the run" ends when either budget does."""
        return min(max(self.step / max(self.cfg.train.iters, 1), self.time_fraction()), 1.0)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One generator step (the step part's work) and the counter after it."""
        stats = self.stepper.run(self.step, self.cfg.train.iters, self.time_fraction(), self.lr_scale)
        self.step += 1
        return stats

    # ------------------------------------------------------------------ loop
    def request_stop(self, reason: str, status: RunStatus = RunStatus.FINISHED) -> None:
        self.stop_reason = reason
        self._stop_status = status
        self._stop_requested = True

    @property
    def status(self) -> RunStatus:
        """How the run ended (or stands): FAILED when a fatal failure stands, else what the
        last stop said (FINISHED when nothing stopped it early)."""
        if self.fatal:
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
            elif isinstance(r, Measure):
                self._stats[r.name] = torch.tensor(float(r.value))
            elif isinstance(r, Fail):
                self.failure = self.failure or r.reason
                self.fatal = self.fatal or r.fatal
            elif isinstance(r, Rollback):
                # the checkpoint holds the lr scale and rollback count of its own time
                lr_scale, rollbacks = self.lr_scale * r.lr_factor, self.rollbacks + 1
                self.load_state_dict(r.state)
                self.lr_scale, self.rollbacks = lr_scale, rollbacks
                self.fatal, self.failure = False, None
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
                self._stats = stats  # Measure requests add to it
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
        stop, fatal = self.dist.any(self._stop_requested or self._interrupt_pending, self.fatal)
        if self.cfg.train.max_seconds is not None:
            # each rank times itself, so one clock must decide for all: every rank then stops
            # at the same step and sees the same time-driven learning rate and penalty
            # weight. The smallest: rank 0 excludes its evaluation and sampling from its
            # clock, while the other ranks count the time they wait for it in a collective
            self.elapsed = self.dist.min(self.elapsed)
        if stop and not self._stop_requested:
            self.request_stop("interrupted", RunStatus.INTERRUPTED)
        if fatal and not self.fatal:
            self.fatal = True
            self.failure = self.failure or "non-finite values on another process"

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
            "config": self.cfg.to_dict(), **self.model.state_dict(), **self.stepper.state_dict(),
            "callbacks": {cb.state_key: cb.state_dict() for cb in self.callbacks if cb.state_key}, "rng": rng, "best": dict(self.best), "lr_scale": self.lr_scale,
            "rollbacks": self.rollbacks, "world": self.dist.world,
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
            self.model.load_state_dict(s)
            self.opt_g.load_state_dict(s["opt_g"])
            self.opt_d.load_state_dict(s["opt_d"])
        except (RuntimeError, KeyError, ValueError) as e:
            raise RunError(f"checkpoint does not fit this config (changed model or optimizer?): {str(e).splitlines()[0]}") from None
        self.schedule.load_state_dict(s["schedule"]) if s.get("schedule") else None
        self.augment.load_state_dict(s.get("augment") or {})
        states = dict(s.get("callbacks") or {})
        if "health" in s:  # checkpoints before callbacks held their own state
            states.setdefault("health", s["health"])
        for cb in self.callbacks:
            if cb.state_key and states.get(cb.state_key) is not None:
                cb.load_state_dict(states[cb.state_key])
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
