"""Typed configuration: one tree of dataclasses, loaded from YAML or dicts, overridden
by dotted keys, validated with one-line errors.

Why dataclasses and not a global dict: many runs (trials of a search, tests) share one
process, so the configuration must be a plain value passed around, never global state.
"""
from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from .errors import ConfigError
from .registry import Registry, check_choice, suggest

# keys whose values pick a branch of the code: their choices, with help (ganforge choices)
PRECISIONS = Registry.of("precision", {
    "fp32": "float32 throughout (TF32 on a GPU with train.tf32)",
    "bf16": "bfloat16 autocast of the forward passes; weights and optimizer state stay float32",
    "fp16": "float16 autocast with one gradient scaler per optimizer (for GPUs)",
    "auto": "bf16 on a CUDA GPU that supports bfloat16 or a CPU with bf16 matmul instructions "
            "(avx512_bf16, amx_bf16), fp32 anywhere else (a CPU without them runs bf16 slower than fp32)"})
OPTIM_IMPLS = Registry.of("optimizer implementation", {
    "auto": "fused where torch has a fused kernel for the optimizer (adam, adamw, sgd), else torch's default",
    "fused": "one fused kernel over all parameters (adam, adamw, sgd; 8x faster than the loop on a 2-core CPU)",
    "foreach": "torch's multi-tensor implementation",
    "loop": "torch's per-parameter loop (its default on a CPU before this option)"})
EVAL_REFERENCES = Registry.of("evaluation reference", {
    "auto": "the held-out data when data.holdout > 0, else the training data",
    "holdout": "the held-out data (needs data.holdout > 0)",
    "train": "the training data"})
IVGP_REFERENCES = Registry.of("IVGP reference", {
    "max": "the running maximum of the smoothed distance",
    "initial": "the smoothed distance at the end of the warm-up"})
IVGP_DISTANCES = Registry.of("IVGP distance", {
    "batch": "the critic's Wasserstein estimate on the training batch",
    "holdout": "the real side from held-out data (needs data.holdout)"})
EMA_BATCHNORMS = Registry.of("EMA batch norm", {
    "recompute": "the EMA generator's batch-norm statistics are measured on its own outputs "
                 "(16 training batches of latents, at least 1,024, a fixed seed) before it samples",
    "copy": "the live generator's running statistics are copied (what runs did before 2026-12-03)"})


#: the sides data.size takes: the sides the conv models are built for
IMAGE_SIDES = (8, 16, 28, 32, 64, 128)


@dataclass
class DataConfig:
    """Where the training data comes from."""

    name: str = "digits"  #: toy | digits | mnist | stackedmnist | imagefolder | lfw (see ``ganforge.data.DATASETS``)
    dir: Optional[str] = None  #: folder with the files, for file-based datasets
    size: Optional[int] = None  #: image side in pixels after resizing; None keeps the native size (an image folder: the next of 8, 16, 28, 32, 64 px that holds its images, at most 64)
    toy: str = "ring8"  #: for name=toy: ring8 | grid25 | swissroll
    n_samples: int = 20000  #: toy: how many points to draw; stackedmnist: how many images to stack
    limit: Optional[int] = None  #: use only the first N examples (after the holdout is removed; of a labelled image folder without a holdout, a seeded random N, so every class is in them)
    holdout: int = 0  #: keep a fixed, seeded random N examples out of training (reference set for metrics)
    seed: int = 0  #: seed for generated data (toy) and for the holdout shuffle
    crop: Optional[int] = None  #: imagefolder: centre crop side before resizing (None: the shorter side)
    channels: Optional[int] = None  #: imagefolder: 1 or 3 (None: as the files are; any colour image makes it 3)
    skip_bad: bool = False  #: imagefolder: skip unreadable files (with a warning) instead of failing
    max_memory_mb: int = 8192  #: imagefolder: above this, stream from disk instead of holding the data
    max_pixels: int = 40_000_000  #: imagefolder: refuse an image larger than this (decoding costs 3-4 bytes a pixel)
    workers: int = 2  #: imagefolder streaming: decoding worker processes
    download: bool = False  #: mnist: download into data.dir when the files are missing
    mirrors: list[str] = field(default_factory=lambda: [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ])  #: mnist download mirrors, tried in order
    download_splits: list[str] = field(default_factory=lambda: ["train", "t10k"])  #: mnist splits to download
    file: Optional[str] = None  #: points: a .npy or .csv file of N x D numbers (your own low-dimensional data)
    centres: list[list[float]] = field(default_factory=list)  #: points: mode centres, for the toy metrics
    spread: Optional[float] = None  #: points: std of each mode around its centre, for the toy metrics


@dataclass
class ModelConfig:
    """Generator and discriminator architecture."""

    name: str = "mlp"  #: mlp | dcgan | upconv | resnet (ganforge choices model.name)
    z_dim: int = 64  #: latent dimension
    latent: str = "normal"  #: normal | uniform (uniform on [-1, 1])
    g_hidden: list[int] = field(default_factory=lambda: [256, 512, 1024])  #: MLP generator widths
    d_hidden: list[int] = field(default_factory=lambda: [512, 256])  #: MLP discriminator widths
    width: int = 64  #: base channel count of the convolutional models
    blocks: int = 1  #: resnet: residual blocks per resolution
    g_norm: str = "batch"  #: batch | none (normalization in G)
    d_norm: str = "none"  #: none | layer | spectral | batch | batch-after (normalization in D)
    slope: float = 0.2  #: LeakyReLU slope
    g_act: str = "auto"  #: auto | relu | leakyrelu | tanh | silu (auto: ReLU for DCGAN, LeakyReLU for MLP)
    d_act: str = "auto"  #: auto | relu | leakyrelu | tanh | silu (auto: LeakyReLU)
    g_out: str = "tanh"  #: tanh | linear (G's last operation; linear as R3GAN, samples clamped to [-1, 1])
    init: str = "default"  #: default (PyTorch) | normal (N(0, 0.02), DCGAN) | xavier | kaiming | orthogonal
    d_dropout: float = 0.0  #: dropout after each hidden activation of D
    d_mbstd: int = 0  #: minibatch-stddev group size before D's output layer (0: off; StyleGAN uses 4)
    g_spectral: bool = False  #: spectral norm on every layer of G
    conditional: bool = False  #: class-conditional G (label embedding) and D (projection)
    embed_dim: int = 16  #: label embedding size in a conditional G


@dataclass
class LossConfig:
    """The adversarial objective."""

    name: str = "wasserstein"  #: wasserstein | minimax | nonsaturating | lsgan | hinge | rpgan | ragan
    real_label: float = 1.0  #: one-sided label smoothing for the BCE losses (e.g. 0.9)


@dataclass
class IVGPConfig:
    """Constants of the paper's schedule as this project reads it (see docs/ivgp.md)."""

    beta: float = 0.9  #: smoothing of the distance estimate
    reference: str = "max"  #: max (running maximum of the smoothed distance) | initial
    warmup: int = 0  #: critic steps before the schedule may lower rho below 1
    distance: str = "batch"  #: batch (W on the training batch) | holdout (real side from held-out data, needs data.holdout)


@dataclass
class PIConfig:
    """PI controller on the gradient-norm error (Mtetwa et al. 2025)."""

    kp: float = 0.5
    ki: float = 0.01
    target: float = 1.0  #: desired mean gradient norm at the penalty points
    lambda_lo: float = 0.1
    lambda_hi: float = 100.0


@dataclass
class RegConfig:
    """Regularizers and tricks beyond the Lipschitz penalty."""

    instance_noise: float = 0.0  #: std of Gaussian noise added to every D input, annealed to 0
    noise_anneal: Optional[int] = None  #: steps over which the noise falls to 0 (None: the whole run)
    d_l1: float = 0.0  #: L1 penalty on D's weights
    d_l2: float = 0.0  #: L2 penalty on D's weights
    g_l1: float = 0.0
    g_l2: float = 0.0


@dataclass
class PenaltyConfig:
    """Lipschitz control / regularizer for the discriminator and its schedule."""

    name: str = "gp"  #: none | gp | gp0 | lp | dragan | r1 | r2 | clip, or several joined by + (r1+r2)
    weight: float = 10.0  #: lambda (for schedules: lambda_max and the starting value)
    term_weights: list[float] = field(default_factory=list)  #: for a+b: each term's factor on lambda (empty: 1 each)
    weight_min: float = 0.0  #: lambda_min for the ivgp, linear and cosine schedules
    clip: float = 0.01  #: weight-clipping bound, for name=clip
    every: int = 1  #: lazy regularization: apply every k critic steps, weight scaled by k
    lazy_correction: bool = True  #: with every=k>1: D's lr x k/(k+1) and betas ** (k/(k+1)) (StyleGAN2)
    schedule: str = "constant"  #: constant | ivgp | pi | linear | cosine
    decay_steps: Optional[int] = None  #: linear / cosine: generator steps from weight to weight_min (None: the run)
    ivgp: IVGPConfig = field(default_factory=IVGPConfig)
    pi: PIConfig = field(default_factory=PIConfig)


@dataclass
class OptimizerConfig:
    """One network's optimizer and learning-rate schedule."""

    name: str = "adam"  #: adam | adamw | sgd | rmsprop | adagrad
    lr: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.5, 0.9])  #: Adam / AdamW
    momentum: float = 0.0  #: SGD / RMSprop
    nesterov: bool = False  #: SGD
    weight_decay: float = 0.0
    schedule: str = "constant"  #: constant | exponential | step | linear | cosine
    gamma: float = 0.99  #: decay factor (exponential per 100 steps, step per step_size)
    step_size: int = 1000  #: for schedule=step
    warmup: int = 0  #: linear warm-up length in generator steps
    decay_start: float = 0.0  #: linear/cosine: fraction of the run held at the base rate before the decay to 0
    grad_clip: Optional[float] = None  #: clip the global gradient norm to this value
    impl: str = "auto"  #: auto | fused | foreach | loop (the same update; fused is fastest, docs/scale.md)


@dataclass
class OptimConfig:
    g: OptimizerConfig = field(default_factory=OptimizerConfig)
    d: OptimizerConfig = field(default_factory=OptimizerConfig)


@dataclass
class TrainConfig:
    """The loop: length, batch, logging and checkpoint cadence, device, health checks."""

    iters: int = 2000  #: generator steps
    epochs: Optional[float] = None  #: alternative length: passes of D over the data (sets iters)
    batch_size: int = 64
    d_batch_size: Optional[int] = None  #: batch size of the D steps (None: batch_size)
    g_batch_size: Optional[int] = None  #: batch size of the G steps (None: batch_size)
    n_critic: int = 5  #: discriminator steps per generator step
    reuse_fakes: bool = False  #: the G step reuses the last critic step's fakes (one G forward less a step; needs one batch size for both steps)
    seed: int = 0
    log_every: int = 10
    sample_every: int = 250
    ckpt_every: int = 500
    keep_ckpts: int = 2  #: checkpoints kept on disk (the newest and its predecessors)
    device: str = "auto"  #: auto | cpu | cuda | cuda:N
    ema_decay: Optional[float] = None  #: EMA of generator weights (e.g. 0.999); None = off
    ema_halflife_kimg: Optional[float] = None  #: EMA by half-life in thousands of images (StyleGAN2); None = off
    ema_rampup: Optional[float] = 0.05  #: with ema_halflife_kimg: half-life at most this x images seen so far
    ema_batchnorm: str = "recompute"  #: recompute | copy: the EMA generator's batch-norm statistics
    max_seconds: Optional[float] = None  #: stop once the training clock passes this many seconds (a time budget)
    threads: int = 0  #: torch intra-op threads on a CPU; 0: auto (the faster of 1 and all, re-measured as load changes)
    precision: str = "fp32"  #: fp32 | bf16 | fp16 | auto (autocast of forward passes; weights stay fp32; fp16 adds grad scalers; auto: bf16 on CUDA or a CPU with bf16 matmul, else fp32)
    channels_last: bool = False  #: channels-last memory format for image models
    tf32: bool = True  #: on a CUDA GPU, TF32 matmuls and convolutions (3.6x faster at 64 px, batch 256, H200); false: full fp32
    tensorboard: bool = True  #: write TensorBoard event files into the run folder
    stop_on_failure: bool = False  #: stop when the health monitor declares the run diverged
    max_rollbacks: int = 3  #: on NaN/inf: roll back to the last good checkpoint this many times (0 = stop at once)
    rollback_lr_factor: float = 0.5  #: learning rates are multiplied by this on each rollback
    n_sample: int = 64  #: images in each sample grid


@dataclass
class EvalConfig:
    """Periodic evaluation during training (FID and friends, or toy metrics)."""

    every: int = 0  #: evaluate every N generator steps; 0 = off
    every_seconds: Optional[float] = None  #: also (or instead) every this many seconds of training
    n: int = 2000  #: generated samples per evaluation
    extractor: str = "auto"  #: auto | a registered extractor (ganforge choices eval.extractor) | a TorchScript file | module:function
    reference: str = "auto"  #: auto (the holdout when data.holdout > 0, else the training data) | holdout | train
    kid_subsets: int = 10
    seed: int = 1234  #: latents for evaluation come from their own generator
    repeats: int = 1  #: draw the n samples this many times (latent seeds seed, seed+1, ...) and log each measure's median (and the FID's or W1's sd over the draws)
    metrics: list[str] = field(default_factory=list)  #: image metrics to compute (ganforge choices eval.metrics, or module:function); empty: all


@dataclass
class AugmentConfig:
    """Differentiable augmentation of every D input, real and fake (DiffAugment / ADA)."""

    ops: list[str] = field(default_factory=list)  #: translation | cutout | color (brightness+saturation+contrast) | brightness | saturation | contrast
    p: float = 1.0  #: probability that each op is applied to a sample (the start value when adaptive)
    adaptive: bool = False  #: ADA: move p so that r = E[sign D(x_real)] approaches target
    target: float = 0.6  #: ADA's target for r
    interval: int = 4  #: ADA: critic steps between two adjustments of p
    speed_img: int = 100000  #: ADA: real images seen for p to move by 1 (StyleGAN2-ADA: 500k)
    translation: float = 0.125  #: translation: largest shift, as a fraction of the side
    cutout: float = 0.5  #: cutout: side of the erased square, as a fraction of the side


@dataclass
class Config:
    """The whole configuration of a run."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    penalty: PenaltyConfig = field(default_factory=PenaltyConfig)
    reg: RegConfig = field(default_factory=RegConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    out: Optional[str] = None  #: run folder; default runs/<data>-<model>-<time>

    # ------------------------------------------------------------------ conversions
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, where: str = "config", validate: bool = True) -> "Config":
        """A config from a (partial) mapping over the defaults; ``validate=False`` leaves the
        range checks to the caller (``ganforge.resolve`` runs them once, after every layer)."""
        cfg = cls()
        if d:
            _merge(cfg, d, prefix="", where=where)
        if validate:
            cfg.validate()
        return cfg

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def copy(self) -> "Config":
        return copy.deepcopy(self)

    # ------------------------------------------------------------------ overrides
    def set(self, key: str, value: Any) -> None:
        """Set a dotted key (``optim.g.lr``); strings are parsed as YAML scalars."""
        parts = key.split(".")
        obj: Any = self
        for i, part in enumerate(parts):
            names = [f.name for f in dataclasses.fields(obj)]
            if part not in names:
                here = ".".join(parts[:i]) or "top level"
                full = [".".join(parts[:i] + [n]) for n in names]
                raise ConfigError(
                    f"unknown config key {key!r}{suggest(key, _all_keys(self))}; "
                    f"keys at {here}: {', '.join(full)}"
                )
            if i == len(parts) - 1:
                ftype = _field_types(type(obj))[part]
                if dataclasses.is_dataclass(getattr(obj, part)):
                    raise ConfigError(f"{key!r} is a section; set one of its keys, e.g. {key}.{dataclasses.fields(getattr(obj, part))[0].name}")
                if isinstance(value, str):
                    value = _parse_scalar(value)
                setattr(obj, part, _coerce(value, ftype, key))
            else:
                obj = getattr(obj, part)

    def get(self, key: str) -> Any:
        obj: Any = self
        for part in key.split("."):
            if not dataclasses.is_dataclass(obj) or not hasattr(obj, part):
                raise ConfigError(f"unknown config key {key!r}{suggest(key, _all_keys(self))}")
            obj = getattr(obj, part)
        return obj

    def apply_overrides(self, items: list[str]) -> None:
        """Apply ``key=value`` strings (the CLI's ``--set``)."""
        for item in items:
            if "=" not in item:
                raise ConfigError(f"--set expects key=value, got {item!r}")
            k, v = item.split("=", 1)
            self.set(k.strip(), v.strip())

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Raise ConfigError for the first value out of its range or cross-key rule broken.
        One check per section, each one short. Names (which need the component registries)
        are checked by ``ganforge.resolve.check_names``, in the build layer."""
        self._check_train()
        self._check_eval()
        self._check_data()
        self._check_model()
        self._check_penalty()
        self._check_augment()
        for net in ("g", "d"):
            _check_optimizer(f"optim.{net}", getattr(self.optim, net))

    def _check_train(self) -> None:
        t = self.train
        _pos("train.iters", t.iters, allow_zero=True)
        for k in ("batch_size", "n_critic", "log_every", "sample_every", "ckpt_every", "keep_ckpts", "n_sample"):
            _pos(f"train.{k}", getattr(t, k))
        for k in ("d_batch_size", "g_batch_size"):
            if getattr(t, k) is not None:
                _pos(f"train.{k}", getattr(t, k))
        check_choice("train.precision", t.precision, PRECISIONS)
        if t.reuse_fakes and (t.d_batch_size or t.batch_size) != (t.g_batch_size or t.batch_size):
            raise ConfigError(f"train.reuse_fakes needs one batch size for the D and G steps, got "
                              f"{t.d_batch_size or t.batch_size} and {t.g_batch_size or t.batch_size}")
        if t.max_rollbacks < 0:
            raise ConfigError(f"train.max_rollbacks must be >= 0, got {t.max_rollbacks}")
        if not 0.0 < t.rollback_lr_factor <= 1.0:
            raise ConfigError(f"train.rollback_lr_factor must be in (0, 1], got {t.rollback_lr_factor}")
        if t.epochs is not None and not t.epochs > 0:
            raise ConfigError(f"train.epochs must be > 0, got {t.epochs}")
        if t.threads < 0:
            raise ConfigError(f"train.threads must be >= 0, got {t.threads}")
        if t.ema_decay is not None and not 0.0 < t.ema_decay < 1.0:
            raise ConfigError(f"train.ema_decay must be in (0, 1), got {t.ema_decay}")
        if t.ema_halflife_kimg is not None:
            if not t.ema_halflife_kimg > 0:
                raise ConfigError(f"train.ema_halflife_kimg must be > 0, got {t.ema_halflife_kimg}")
            if t.ema_decay is not None:
                raise ConfigError("set train.ema_decay or train.ema_halflife_kimg, not both")
        check_choice("train.ema_batchnorm", t.ema_batchnorm, EMA_BATCHNORMS)
        if t.ema_rampup is not None and not t.ema_rampup > 0:
            raise ConfigError(f"train.ema_rampup must be > 0 (or null for none), got {t.ema_rampup}")
        if t.max_seconds is not None and not t.max_seconds > 0:
            raise ConfigError(f"train.max_seconds must be > 0, got {t.max_seconds}")
        dev = t.device
        if not (dev in ("auto", "cpu", "cuda") or (dev.startswith("cuda:") and dev[5:].isdigit())):
            raise ConfigError(f"train.device must be auto, cpu, cuda or cuda:N, got {dev!r}")
        r = self.reg
        for k in ("instance_noise", "d_l1", "d_l2", "g_l1", "g_l2"):
            if getattr(r, k) < 0:
                raise ConfigError(f"reg.{k} must be >= 0, got {getattr(r, k)}")
        if r.noise_anneal is not None:
            _pos("reg.noise_anneal", r.noise_anneal)

    def _check_eval(self) -> None:
        e = self.eval
        if e.every < 0:
            raise ConfigError(f"eval.every must be >= 0, got {e.every}")
        if e.every_seconds is not None and not e.every_seconds > 0:
            raise ConfigError(f"eval.every_seconds must be > 0, got {e.every_seconds}")
        _pos("eval.n", e.n)
        _pos("eval.kid_subsets", e.kid_subsets)
        _pos("eval.repeats", e.repeats)
        if e.n < 10:
            raise ConfigError(f"eval.n must be at least 10, got {e.n}")
        check_choice("eval.reference", e.reference, EVAL_REFERENCES)
        if e.reference == "holdout" and self.data.holdout == 0:
            raise ConfigError("eval.reference=holdout needs data.holdout > 0")

    def _check_data(self) -> None:
        d = self.data
        _pos("data.n_samples", d.n_samples)
        _pos("data.max_memory_mb", d.max_memory_mb)
        _pos("data.max_pixels", d.max_pixels)
        if d.workers < 0:
            raise ConfigError(f"data.workers must be >= 0, got {d.workers}")
        if d.crop is not None:
            _pos("data.crop", d.crop)
        if d.channels not in (None, 1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {d.channels}")
        if d.holdout < 0:
            raise ConfigError(f"data.holdout must be >= 0, got {d.holdout}")
        if d.limit is not None:
            _pos("data.limit", d.limit)
        if d.size is not None and d.size not in IMAGE_SIDES:
            raise ConfigError(f"data.size must be one of {', '.join(map(str, IMAGE_SIDES))}, got {d.size}")
        if d.spread is not None and not d.spread > 0:
            raise ConfigError(f"data.spread must be > 0, got {d.spread}")
        if d.centres and len({len(c) for c in d.centres}) != 1:
            raise ConfigError("data.centres must all have the same dimension")

    def _check_model(self) -> None:
        m = self.model
        _pos("model.z_dim", m.z_dim)
        _pos("model.width", m.width)
        _pos("model.blocks", m.blocks)
        _pos("model.embed_dim", m.embed_dim)
        if m.d_mbstd < 0:
            raise ConfigError(f"model.d_mbstd must be 0 (off) or a group size >= 1, got {m.d_mbstd}")
        if not 0.0 <= m.d_dropout < 1.0:
            raise ConfigError(f"model.d_dropout must be in [0, 1), got {m.d_dropout}")
        if any(h <= 0 for h in m.g_hidden + m.d_hidden):
            raise ConfigError("model.g_hidden and model.d_hidden must hold positive widths")
        if not 0.0 <= m.slope < 1.0:
            raise ConfigError(f"model.slope must be in [0, 1), got {m.slope}")
        if not 0.0 < self.loss.real_label <= 1.0:
            raise ConfigError(f"loss.real_label must be in (0, 1], got {self.loss.real_label}")

    def _check_penalty(self) -> None:
        p = self.penalty
        _pos("penalty.every", p.every)
        if p.weight < 0 or p.weight_min < 0:
            raise ConfigError("penalty.weight and penalty.weight_min must be >= 0")
        if p.weight_min > p.weight:
            raise ConfigError(f"penalty.weight_min ({p.weight_min}) must not exceed penalty.weight ({p.weight})")
        if p.clip <= 0:
            raise ConfigError(f"penalty.clip must be > 0, got {p.clip}")
        if not 0.0 <= p.ivgp.beta < 1.0:
            raise ConfigError(f"penalty.ivgp.beta must be in [0, 1), got {p.ivgp.beta}")
        check_choice("penalty.ivgp.reference", p.ivgp.reference, IVGP_REFERENCES)
        check_choice("penalty.ivgp.distance", p.ivgp.distance, IVGP_DISTANCES)
        if p.schedule == "ivgp" and p.ivgp.distance == "holdout" and self.data.holdout == 0:
            raise ConfigError("penalty.ivgp.distance=holdout needs held-out data: set data.holdout > 0")
        if not 0 <= p.pi.lambda_lo <= p.pi.lambda_hi:
            raise ConfigError("penalty.pi needs 0 <= lambda_lo <= lambda_hi")
        if p.decay_steps is not None:
            _pos("penalty.decay_steps", p.decay_steps)
        terms = p.name.split("+")
        if p.schedule != "constant" and all(n.strip() in ("none", "clip") for n in terms):
            raise ConfigError(f"penalty.schedule={p.schedule} has no effect with penalty.name={p.name} "
                              "(it sets the weight of a gradient penalty); use gp, lp, dragan, r1 or r2")
        if self.model.d_norm in ("batch", "batch-after") and any(n.strip() not in ("none", "clip") for n in terms):
            raise ConfigError(f"model.d_norm={self.model.d_norm} makes D's output for one image depend on the rest of its batch, "
                              f"but penalty.name={p.name} takes D's gradient image by image; with a gradient "
                              "penalty use model.d_norm=none or layer")
        if p.term_weights and len(p.term_weights) != len(terms):
            raise ConfigError(f"penalty.term_weights has {len(p.term_weights)} values but penalty.name={p.name!r} "
                              f"has {len(terms)} term(s)")
        if any(w < 0 for w in p.term_weights):
            raise ConfigError("penalty.term_weights must be >= 0")

    def _check_augment(self) -> None:
        a = self.augment
        if not 0.0 <= a.p <= 1.0:
            raise ConfigError(f"augment.p must be in [0, 1], got {a.p}")
        if not -1.0 <= a.target <= 1.0:
            raise ConfigError(f"augment.target must be in [-1, 1], got {a.target}")
        _pos("augment.interval", a.interval)
        _pos("augment.speed_img", a.speed_img)
        if not 0.0 <= a.translation < 1.0 or not 0.0 <= a.cutout < 1.0:
            raise ConfigError("augment.translation and augment.cutout must be in [0, 1)")


# ---------------------------------------------------------------------- helpers
#: the learning-rate schedules that decay to 0 at the run's end, the ones decay_start delays
_DECAYS_TO_END = ("linear", "cosine")


def _check_optimizer(k: str, o: OptimizerConfig) -> None:
    if not o.lr > 0:
        raise ConfigError(f"{k}.lr must be > 0, got {o.lr}")
    if len(o.betas) != 2 or not all(0.0 <= b < 1.0 for b in o.betas):
        raise ConfigError(f"{k}.betas must be two numbers in [0, 1), got {o.betas}")
    if o.momentum < 0 or o.weight_decay < 0:
        raise ConfigError(f"{k}.momentum and {k}.weight_decay must be >= 0")
    if not 0.0 < o.gamma <= 1.0:
        raise ConfigError(f"{k}.gamma must be in (0, 1], got {o.gamma}")
    _pos(f"{k}.step_size", o.step_size)
    if o.warmup < 0:
        raise ConfigError(f"{k}.warmup must be >= 0, got {o.warmup}")
    if not 0.0 <= o.decay_start < 1.0:
        raise ConfigError(f"{k}.decay_start must be in [0, 1), got {o.decay_start}")
    if o.decay_start and o.schedule not in _DECAYS_TO_END:
        # a silent no-op would let a user believe the rate decays late when it never decays
        raise ConfigError(f"{k}.decay_start has no effect with {k}.schedule={o.schedule} "
                          f"(it delays the decay of: {', '.join(_DECAYS_TO_END)})")
    if o.grad_clip is not None and not o.grad_clip > 0:
        raise ConfigError(f"{k}.grad_clip must be > 0, got {o.grad_clip}")
    check_choice(f"{k}.impl", o.impl, OPTIM_IMPLS)


#: the largest integer a config value may hold (torch's and numpy's int64)
INT_MAX = 2 ** 63 - 1


def _pos(key: str, value: int | float, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{key} must be {'>= 0' if allow_zero else '> 0'}, got {value}")


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _all_keys(obj: Any, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v):
            keys += _all_keys(v, prefix + f.name + ".")
        else:
            keys.append(prefix + f.name)
    return keys


def _parse_scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError:
        return text


def _type_name(t: Any) -> str:
    return getattr(t, "__name__", str(t).replace("typing.", ""))


def _coerce(value: Any, ftype: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``ftype``; convert int->float where natural."""
    origin = typing.get_origin(ftype)
    args = typing.get_args(ftype)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], key)
    if origin is list:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return [_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value)]
    if ftype is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if ftype is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(f"{key} must be an integer, got {value!r}")
        if abs(value) > INT_MAX:  # torch and the checkpoints hold 64-bit integers
            raise ConfigError(f"{key} must be at most {INT_MAX:,} in size, got {value:.3g}")
        return value
    if ftype is float:
        if isinstance(value, str):  # YAML 1.1 reads '3e-4' (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        v = float(value)
        if v != v or v in (float("inf"), float("-inf")):
            raise ConfigError(f"{key} must be a finite number, got {value!r}")
        return v
    if ftype is str:
        if not isinstance(value, str):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            raise ConfigError(f"{key} must be a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {_type_name(ftype)}")  # pragma: no cover


def _merge(obj: Any, d: Any, prefix: str, where: str) -> None:
    if not isinstance(d, dict):
        raise ConfigError(f"{where}: section {prefix.rstrip('.') or 'top level'} must be a mapping, got {d!r}")
    hints = _field_types(type(obj))
    names = [f.name for f in dataclasses.fields(obj)]
    for k, v in d.items():
        key = prefix + str(k)
        if k not in names:
            raise ConfigError(
                f"{where}: unknown key {key!r}{suggest(str(k), names)}; "
                f"valid here: {', '.join(prefix + n for n in names)}"
            )
        cur = getattr(obj, k)
        if dataclasses.is_dataclass(cur):
            _merge(cur, v, key + ".", where)
        else:
            setattr(obj, k, _coerce(v, hints[k], f"{where}: {key}" if where != "config" else key))


def deep_merge(a: dict, b: dict) -> dict:
    """``a`` updated by ``b``, recursively for nested mappings (neither is modified)."""
    out = dict(a)
    for k, v in b.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with clear errors for a missing or malformed file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or ""
        if "constructor for the tag" in problem:  # valid YAML, but a tag that would build an object
            tag = problem.split("tag ", 1)[-1].strip()
            raise ConfigError(f"{p}: the YAML tag {tag}{at} is refused: tags that build Python objects are never "
                              "loaded (write the plain value)") from None
        raise ConfigError(f"{p}: not valid YAML{at}") from None
    if data is None:
        # an empty file is almost always a mistake (wrong file, failed write); applying
        # nothing silently would train the defaults while the user believes otherwise
        raise ConfigError(f"{p}: the file is empty (no settings in it)")
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a mapping of sections, got {type(data).__name__}")
    return data


PRESET_DIR = Path(__file__).parent / "presets"


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_preset(name: str) -> dict[str, Any]:
    path = PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}{suggest(name, preset_names())}; see `ganforge presets`")
    data = load_yaml(path)
    data.pop("description", None)
    return data


def preset_description(name: str) -> str:
    return str(load_yaml(PRESET_DIR / f"{name}.yaml").get("description", ""))
