"""The model part of a run: G, D, the EMA copy of G and sampling from them. What training
updates, what checkpoints hold of the networks, and all that ``sample`` and ``evaluate``
load (no optimizers, scalers or data streams)."""
from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn as nn

from ..config import Config
from ..data import Dataset
from ..errors import ConfigError, RunError
from ..models import build_models, sample_latent
from ..optim import EMA
from .distributed import DistContext
from .sampling import rank_seed


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` picks CUDA when present; in a distributed run each rank takes its own GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RunError(f"train.device={name} but CUDA is not available on this machine; use --device cpu")
    if name == "cuda" and local_rank:
        name = f"cuda:{local_rank}"
    return torch.device(name)


#: the CPU flags (Linux /proc/cpuinfo) of native bfloat16 matmul instructions
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_bf16_matmul(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX), read from the
    kernel's flags; False where they cannot be read (not Linux)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return any(flag in line.split() for flag in BF16_CPU_FLAGS)
    except OSError:
        pass
    return False


def resolve_precision(name: str, device: torch.device) -> str:
    """The autocast precision a run uses: ``auto`` is bf16 on a CUDA device that supports
    bfloat16 or a CPU with bfloat16 matmul instructions, fp32 anywhere else; the other
    names are taken as they are.

    Why: on a GPU bf16 stepped a residual image model 1.6x faster than fp32 with no sign of
    lost quality (docs/results/gpu/conv_step_precision.md); a CPU with avx512_bf16 stepped
    the StackedMNIST MLP 1.72x faster (docs/results/step_rate_stacked_bf16.md), while a CPU
    without such units ran a conv model at 0.73x (docs/scale.md)."""
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_has_bf16_matmul() else "fp32"


def check_model_fits(cfg: Config, data: Dataset, device: torch.device) -> None:
    """ConfigError when G and D with their optimizer state cannot fit in memory (an absurd
    model.g_hidden would otherwise end in an allocator traceback)."""
    from ..resources import BYTES_PER_PARAM, count_parameters, require_fits

    try:
        n = count_parameters(lambda: build_models(cfg.model, data.shape, data.num_classes))
    except ConfigError:
        raise
    except Exception:  # an op without a meta kernel: the real build will tell
        return
    require_fits(n * BYTES_PER_PARAM, f"a model of {n / 1e6:,.0f}M parameters (weights, gradients, "
                 "optimizer state)", "make model.g_hidden, model.d_hidden or model.width smaller", device)


class GANModel:
    """G and D on the device (seeded: the same initial weights on every rank), the EMA copy,
    and the modules the differentiated forwards go through (``G_train``/``D_train``: DDP
    wrappers in a distributed run, which average the gradients over ranks; G and D serve
    everything else: sampling, checkpoints, the penalty's input gradient)."""

    def __init__(self, cfg: Config, data: Dataset, device: torch.device, dist: Optional[DistContext] = None) -> None:
        dist = dist or DistContext()
        self.cfg, self.device = cfg, device
        if cfg.model.conditional and data.num_classes < 2 and data.info.get("unlabelled_because"):
            # the data's own reason (a folder with class subfolders and a loose image) says
            # more than build_models' general line
            raise ConfigError(f"model.conditional needs labelled data, and {data.info['unlabelled_because']}")
        check_model_fits(cfg, data, device)
        torch.manual_seed(cfg.train.seed)
        self.conditional = cfg.model.conditional
        self.num_classes = data.num_classes
        self.G, self.D = build_models(cfg.model, data.shape, data.num_classes)
        self.G.to(device)
        self.D.to(device)
        self.memory_format = torch.channels_last if cfg.train.channels_last and data.is_image else None
        if self.memory_format is not None:
            self.G.to(memory_format=self.memory_format)
            self.D.to(memory_format=self.memory_format)
        # the EMA copy keeps plain batch norm: it samples in eval mode, and measuring its
        # statistics (train.ema_batchnorm=recompute) gives every rank the same values alone
        t = cfg.train
        self.ema = (EMA(self.G, t.ema_decay) if t.ema_decay else
                    EMA(self.G, halflife_img=t.ema_halflife_kimg * 1000, rampup=t.ema_rampup)
                    if t.ema_halflife_kimg else None)
        self.G = dist.sync_batchnorm(self.G, device)
        self.D = dist.sync_batchnorm(self.D, device)  # model.d_norm=batch: statistics over all ranks too
        self.G_train = dist.wrap(self.G, device)
        self.D_train = dist.wrap(self.D, device)
        if dist.rank:  # dropout and instance noise: an independent global stream per rank
            torch.manual_seed(rank_seed(cfg.train.seed, dist.rank))

    @property
    def sampler(self) -> nn.Module:
        """The generator used for pictures and evaluation (EMA weights when on; with
        train.ema_batchnorm=recompute their batch-norm statistics measured on their own
        outputs first, whenever the weights changed since)."""
        if self.ema is None:
            return self.G
        if self.cfg.train.ema_batchnorm == "recompute":
            self.ema.refresh_batchnorm(self._norm_batches)
        return self.ema.module

    def _norm_batches(self, seed: int = 0) -> list[tuple[torch.Tensor, ...]]:
        """G's inputs for measuring batch-norm statistics: 16 training batches of latents,
        and at least 1,024 (labels drawn uniformly for a conditional G), from their own
        seeded generator, so measuring never moves the training RNG and is the same on resume.

        Why that many: the live G's running statistics (momentum 0.1) average about its last
        10-20 batches. At a batch of 64 or more measuring costs 16 forward passes of G, where
        one training step makes at least three: at most about 2% of the 250 steps between two
        sample grids at the default sample_every (16 of 750 or more passes). Smaller batches
        take ceil(1024 / batch) passes of smaller batches. A 64 px conv G at batch 64 on one
        CPU thread, nothing else running, took 41 s; the first version (4,096 latents whatever
        the batch) took 188 s there, timed beside a training run."""
        g = torch.Generator().manual_seed(seed)
        b = max(2, self.cfg.train.batch_size)
        out = []
        for _ in range(max(16, -(-1024 // b))):
            z = sample_latent(b, self.cfg.model.z_dim, self.cfg.model.latent, generator=g).to(self.device)
            if self.conditional:
                y = torch.randint(0, self.num_classes, (b,), generator=g).to(self.device)
                out.append((z, y))
            else:
                out.append((z,))
        return out

    def g_forward(self, g: nn.Module, z: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        return g(z, y) if self.conditional else g(z)

    def d_forward(self, x: torch.Tensor, y: Optional[torch.Tensor], train: bool = False) -> torch.Tensor:
        """D on ``x`` (labels ``y`` for a conditional D); ``train`` goes through ``D_train``
        (the DDP wrapper that averages gradients), else through D itself."""
        d = self.D_train if train else self.D
        return d(x, y) if self.conditional else d(x)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y: Optional[torch.Tensor] = None) -> torch.Tensor:
        g = self.sampler
        was = g.training
        g.eval()
        try:
            if self.conditional and y is None:
                y = torch.arange(z.shape[0], device=z.device) % self.num_classes
            # samples are images in [-1, 1]: a linear output (model.g_out) may overshoot, and
            # a tanh one never does, so the clamp changes nothing there
            return self.g_forward(g, z, y).clamp(-1.0, 1.0)
        finally:
            g.train(was)

    def generate_n(self, n: int, seed: int, chunk: int = 1000) -> torch.Tensor:
        """``n`` samples (on the CPU) from latents of their own seeded generator: the
        training RNG is untouched, so evaluating never changes a run."""
        g = torch.Generator().manual_seed(seed)
        z = sample_latent(n, self.cfg.model.z_dim, self.cfg.model.latent, generator=g)
        return torch.cat([self.generate(z[i:i + chunk].to(self.device)).cpu() for i in range(0, n, chunk)])

    def weights_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for m in (self.G, self.D) for p in m.parameters())

    def state_dict(self) -> dict[str, Any]:
        return {"G": self.G.state_dict(), "D": self.D.state_dict(),
                "ema": self.ema.module.state_dict() if self.ema is not None else None}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        """The networks of a checkpoint (RuntimeError/KeyError when they do not fit)."""
        self.G.load_state_dict(s["G"])
        self.D.load_state_dict(s["D"])
        if self.ema is not None:
            if s.get("ema") is None:
                raise RunError("the checkpoint has no EMA weights but train.ema_decay is set")
            self.ema.module.load_state_dict(s["ema"])
            self.ema.stale = True
