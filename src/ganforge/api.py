"""The Python API. The CLI is a thin layer over these functions.

    >>> import ganforge
    >>> result = ganforge.train({"data": {"name": "toy"}, "train": {"iters": 100}})
    >>> result.run_dir, result.metrics["loss_d"]
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch

from .config import Config, DataConfig
from .data import load_dataset
from .errors import ConfigError, RunError
from .images import save_samples
from .resolve import finish, resolve
from .train.callbacks import Checkpointer, Evaluator, HealthCallback, MetricsLogger, Progress, SampleWriter, TensorBoardLogger
from .train.checkpoint import load_latest
from .train.loop import FORMAT, RunStatus, Trainer
from .train.model import GANModel, resolve_device
from .train.rundir import RunDir, default_run_name, trainer_fields

ConfigLike = Union[Config, dict, None]


@dataclass
class TrainResult:
    """What a finished (or stopped) training run produced."""

    run_dir: Path
    step: int
    status: RunStatus  #: finished | interrupted | pruned | failed (a str enum: compares equal to those words)
    metrics: dict[str, Any] = field(default_factory=dict)  #: the last metrics record
    samples: Optional[Path] = None  #: the last sample grid
    checkpoint: Optional[Path] = None
    elapsed: float = 0.0  #: training seconds, across resumes
    warnings: list[str] = field(default_factory=list)
    best: dict[str, Any] = field(default_factory=dict)  #: best evaluation: metric, value, step
    last_eval: dict[str, Any] = field(default_factory=dict)  #: the last evaluation record
    reason: Optional[str] = None

    @property
    def iters_per_second(self) -> float:
        return self.step / self.elapsed if self.elapsed else 0.0


def train(config: ConfigLike = None, *, resume: Union[str, Path, None] = None,
          overrides: Optional[list[str]] = None, progress: bool = False,
          log: Callable[[str], None] = print, handle_signals: bool = False,
          extra_callbacks: Optional[list] = None) -> TrainResult:
    """Train a GAN; returns a :class:`TrainResult`. Safe to call many times in one process.

    ``config`` goes through :func:`ganforge.resolve.resolve` as the CLI's flags do: a dict
    (or None) lies over the data's recipe while it keeps the recipe's method, a
    :class:`Config` is taken as it is. ``resume`` continues the run in that folder from its
    newest intact checkpoint (``config`` is then ignored; ``overrides`` such as
    ``train.iters=300`` still apply).

    Launched by ``torchrun`` (environment WORLD_SIZE > 1), each process calls this with
    the same arguments and they train one model data-parallel: ``train.batch_size`` is
    the global batch, split over the processes; rank 0 writes the run folder.
    """
    from .train.distributed import DistContext, env_world_size

    if resume is not None:
        cfg = resolve(overrides=overrides, resume=resume).config
    else:
        cfg = resolve(config=config, overrides=overrides).config
    if env_world_size() > 1 or _dist_initialized():
        ctx = DistContext.setup(cfg.train.device)
        try:
            return _train(cfg, resume, progress and ctx.is_main,
                          log if ctx.is_main else _quiet, handle_signals, extra_callbacks, ctx)
        finally:
            ctx.close()
    return _train(cfg, resume, progress, log, handle_signals, extra_callbacks, DistContext())


def _dist_initialized() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _quiet(msg: str) -> None:
    """Log sink of ranks other than 0 (rank 0 speaks for the job)."""


def _train(cfg: Config, resume, progress, log, handle_signals, extra_callbacks, ctx) -> TrainResult:
    run = _run_dir(cfg, resume, ctx)
    data = load_dataset(cfg.data)
    if cfg.train.epochs is not None and resume is None:
        import math

        per_step = (cfg.train.d_batch_size or cfg.train.batch_size) * cfg.train.n_critic
        cfg.train.iters = max(1, math.ceil(cfg.train.epochs * len(data) / per_step))
    if cfg.train.batch_size > len(data) * 10:
        raise ConfigError(f"train.batch_size={cfg.train.batch_size} is far larger than the dataset ({len(data)} examples)")
    bar = Progress(enabled=progress)
    say = bar.write if progress else log
    health = HealthCallback(run, say)
    ckpt = Checkpointer(run)
    samples = SampleWriter(run, health)
    # the loop runs them in their declared order (Callback.order), not in this list's
    callbacks = [MetricsLogger(run), health, ckpt, bar, *(extra_callbacks or [])]
    if ctx.is_main:  # pictures, TensorBoard and evaluation: rank 0 only
        if cfg.train.tensorboard:
            callbacks.append(TensorBoardLogger(run))
        callbacks += [samples, Evaluator(run, say)]
    # builds everything: bad names fail before any file is written
    trainer = Trainer(cfg, data, callbacks, dist=ctx)
    if trainer.device.type == "cpu" and not cfg.train.threads:
        from .train.threads import ThreadGovernor, auto_candidates

        trainer.callbacks.append(ThreadGovernor(auto_candidates(cfg.train.threads)))  # order 0: runs first
    if cfg.train.precision == "auto":  # say what auto decided: the config keeps "auto"
        say(f"train.precision=auto: {trainer.stepper.precision} on this {trainer.device.type} device")
    if trainer.stepper.precision == "fp16" and trainer.device.type == "cpu":
        # measured (docs/scale.md): a CPU has no float16 matmul units, so autocast to fp16
        # is emulated; a user who asked for speed should hear it at once
        say("warning: train.precision=fp16 on a CPU is about 50x slower than fp32 (no float16 matmul "
            "units); fp16 is for GPUs. Use fp32 here, or bf16 on a CPU with AMX")
    if resume is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            state, path = load_latest(run.checkpoints)
        for w in caught:
            say(f"warning: {w.message}")
        trainer.load_state_dict(state)
        run.truncate_metrics(trainer.step)
        run.write_config(cfg)
        if ctx.is_main:  # a resumed run's first line: where it goes on from (a fresh one names its recipe)
            say(f"resumed at step {trainer.step} of {cfg.train.iters} from {path}, with the run's stored config")
    else:
        err = None
        try:
            run.create(cfg)  # rank 0 only (the others' RunDir does not write)
        except RunError as e:
            err = str(e)
        err = ctx.broadcast(err)  # so that every rank stops, not just the one that writes
        if err:
            raise RunError(err)
    return _fit(trainer, run, handle_signals, samples, ckpt)


def _run_dir(cfg: Config, resume, ctx) -> RunDir:
    """The run folder: the one to resume, or a new one (named by rank 0: a default name
    has a time stamp). Sets ``cfg.out`` to it."""
    if resume is not None:
        run = RunDir(Path(resume), writable=ctx.is_main).require_run()
        run.require_not_training()
        return run
    if cfg.data.dir:  # stored absolute: the run must resume and evaluate from any folder
        cfg.data.dir = str(Path(cfg.data.dir).expanduser().resolve())
    path = ctx.broadcast(str(Path(cfg.out) if cfg.out else default_run_name(cfg)))
    run = RunDir(Path(path), writable=ctx.is_main)
    cfg.out = str(run.path)
    return run


def _fit(trainer: Trainer, run: RunDir, handle_signals: bool, samples: SampleWriter, ckpt: Checkpointer) -> TrainResult:
    """Train, marking the run folder interrupted if a Ctrl-C escapes and crashed if anything
    else does; the run's result."""
    # who trains it: a run that says running after its process is gone reads "lost", and a
    # second process cannot resume it while this one runs (RunDir.live_status, require_not_training)
    run.write_status(status="running", step=trainer.step, **trainer_fields())
    try:
        trainer.fit(handle_signals=handle_signals)
    except KeyboardInterrupt:
        # a Ctrl-C that reached the loop unhandled (a caller without our signal handlers, or a
        # second Ctrl-C): the user stopped it, so it reads as interrupted, not crashed; it goes
        # on from its newest checkpoint like any interrupted run
        run.write_status(status=RunStatus.INTERRUPTED.value, step=trainer.step)
        raise
    except BaseException:
        run.write_status(status="crashed", step=trainer.step)
        raise
    status = trainer.status
    run.write_status(status=status.value, step=trainer.step, reason=trainer.stop_reason)
    return TrainResult(run_dir=run.path, step=trainer.step, status=status, metrics=dict(trainer.last_record),
                       samples=samples.last_path, checkpoint=ckpt.last_path, elapsed=trainer.elapsed,
                       warnings=list(trainer.warnings), reason=trainer.stop_reason, best=dict(trainer.best),
                       last_eval=dict(trainer.last_eval))


def load_run(run_dir: Union[str, Path], device: str = "cpu") -> tuple[Trainer, Config]:
    """Rebuild a run's whole trainer (networks, optimizers, streams) from its newest
    checkpoint: to continue it by hand. Sampling and evaluation need only
    :func:`load_model`."""
    run = RunDir(Path(run_dir)).require_run()
    cfg = _stored_config(run, device)
    trainer = Trainer(cfg, load_dataset(cfg.data))
    state, _ = load_latest(run.checkpoints)
    trainer.load_state_dict(state)
    return trainer, cfg


@dataclass
class LoadedModel:
    """What sampling and evaluation load of a run: its networks (G, D, EMA), its config and
    data, and the step of the checkpoint they came from."""

    model: GANModel
    cfg: Config
    data: Any
    step: int


def load_model(run_dir: Union[str, Path], device: str = "cpu") -> LoadedModel:
    """A run's networks from its newest checkpoint (no optimizers, scalers or data streams)."""
    run = RunDir(Path(run_dir)).require_run()
    cfg = _stored_config(run, device)
    data = load_dataset(cfg.data)
    model = GANModel(cfg, data, resolve_device(device))
    state, _ = load_latest(run.checkpoints)
    if state.get("format") != FORMAT:
        raise RunError(f"checkpoint format {state.get('format')} is not supported (expected {FORMAT})")
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError) as e:
        raise RunError(f"checkpoint does not fit this config (changed model?): {str(e).splitlines()[0]}") from None
    return LoadedModel(model, cfg, data, int(state["step"]))


def _stored_config(run: RunDir, device: str) -> Config:
    cfg = finish(Config.from_dict(run.read_config(), where=str(run.config_file), validate=False))
    cfg.train.device = device
    return cfg


def _require_samples_fit(n: int, data, flag: str) -> None:
    """ConfigError when ``n`` samples (and a copy of them: a grid, features) cannot fit."""
    from .resources import require_fits

    per = 4 * int(torch.Size(data.shape).numel())
    require_fits(2 * n * per, f"{flag} {n} samples", f"ask for fewer samples with {flag}")


def _class_number(class_: Union[int, str], names: list[str]) -> int:
    """A class given by number or (a labelled image folder's) subfolder name, as its number."""
    if isinstance(class_, int) or str(class_).lstrip("-").isdigit():
        return int(class_)
    if class_ in names:
        return names.index(class_)
    from .registry import suggest

    known = f"one of {', '.join(names)}" if names else "a class number (this run's classes have no names)"
    raise ConfigError(f"--class {class_!r} is not a class of this run{suggest(class_, names)}; give {known}")


def sample(run_dir: Union[str, Path], n: int = 64, out: Union[str, Path, None] = None, seed: int = 0,
           device: str = "cpu", truncation: Optional[float] = None,
           class_: Union[int, str, None] = None) -> torch.Tensor:
    """Draw ``n`` samples from a trained run (EMA weights when present); save them to ``out``:
    a grid when it names a file (``samples.png``), one PNG a sample when it names a folder
    (no suffix; new or empty), as external FID tools read them, a conditional run's in one
    subfolder a class. Images come in [-1, 1]; points (``data.name=points``) in the units of
    their file.

    For a conditional run, ``class_`` picks the class (its number, or for an image folder
    labelled by subfolders the subfolder's name); without it the grid has one row per class."""
    if n <= 0:
        raise ConfigError(f"--n must be > 0, got {n}")
    folder = out is not None and (Path(out).suffix == "" or Path(out).is_dir())
    m = load_model(run_dir, device)
    if folder and not m.data.is_image:
        raise ConfigError(f"--out {out}: a folder of images needs an image run; this run's samples are points "
                          "(name a .png file for their scatter)")
    # refused before the samples are drawn, not after
    if folder:
        from .images import require_new_folder

        require_new_folder(out)
    elif out is not None:
        from .images import require_picture_suffix

        require_picture_suffix(out, m.data.is_image)
    cfg = m.cfg
    _require_samples_fit(n, m.data, "--n")
    y = None
    nrow = None
    if class_ is not None:
        if not m.model.conditional:
            raise ConfigError("--class needs a conditional run (model.conditional=true)")
        class_ = _class_number(class_, m.data.info.get("classes") or [])
        if not 0 <= class_ < m.model.num_classes:
            raise ConfigError(f"--class must be in 0..{m.model.num_classes - 1}, got {class_}")
        y = torch.full((n,), class_, dtype=torch.long)
    elif m.model.conditional:
        nrow = max(1, n // m.model.num_classes)
        y = torch.arange(n) // nrow % m.model.num_classes
    g = torch.Generator().manual_seed(seed)
    from .models import sample_latent

    z = sample_latent(n, cfg.model.z_dim, cfg.model.latent, generator=g)
    if truncation is not None:
        if truncation <= 0:
            raise ConfigError(f"--truncation must be > 0, got {truncation}")
        z = z.clamp(-truncation, truncation)
    chunk = 1000  # bounded working memory, whatever n is
    x = torch.cat([m.model.generate(z[i:i + chunk].to(m.model.device),
                                    y[i:i + chunk].to(m.model.device) if y is not None else None).cpu()
                   for i in range(0, n, chunk)])
    if folder:
        from .images import save_folder

        save_folder(x, out, labels=y, names=m.data.info.get("classes"))
    elif out is not None:
        save_samples(x, out, real=m.data.x[:2000] if x.dim() == 2 else None, nrow=nrow)
    info = m.data.info
    if "scale" in info:  # points: back to the file's units
        x = x * info["scale"] + info["offset"]
    return x


def evaluate_folders(samples: Union[str, Path], reference: Union[str, Path], extractor: str = "auto",
                     size: Optional[int] = None, device: str = "cpu", weights: Optional[str] = None) -> dict[str, Any]:
    """The metrics of one folder of images against another, in one feature space: any
    generator's samples (``ganforge sample RUN --out DIR``, another library's, a tutorial's)
    scored as ganforge scores its runs. Both are read as ``data.name=imagefolder`` reads a
    folder, every image of each, at ``size`` (default: the reference folder's side) and with
    the reference's channels; the extractor is picked for those images as for a run."""
    import time

    from .data.images import folder_channels, folder_side, image_files
    from .metrics.evaluate import count_warning, evaluate_samples
    from .resources import require_fits

    t0 = time.perf_counter()
    if size is not None and size < 8:
        raise ConfigError(f"--size must be at least 8, got {size}")
    for folder in (samples, reference):
        if (Path(folder) / "run.json").is_file():
            raise ConfigError(f"{folder} is a run folder: --against compares two folders of images (write a run's "
                              f"samples with ganforge sample RUN --n 10000 --out DIR), or drop --against to evaluate the run")
    ref_cfg = DataConfig(name="imagefolder", dir=str(reference), size=size)
    side = folder_side(ref_cfg)
    channels = folder_channels(str(reference))
    count = sum(len(image_files(Path(f))) for f in (samples, reference) if Path(f).is_dir())
    require_fits(count * (channels or 3) * side * side * 4, f"reading {count} images at {side} px",
                 "score fewer images, or at a smaller --size")
    # every image of each (no streaming: a metric needs them all at hand), if memory allows
    sets = [load_dataset(DataConfig(name="imagefolder", dir=str(f), size=side, channels=channels,
                                    max_memory_mb=2**30)).x for f in (samples, reference)]
    m = evaluate_samples(sets[0], sets[1], extractor=extractor, device=device, data_name="imagefolder",
                         weights=weights, use_cache=False)
    m.update(samples=str(samples), reference=str(reference), size=side, seconds=round(time.perf_counter() - t0, 2))
    warning = count_warning(m)
    if warning:
        m["warnings"] = [warning]
    return m


def evaluate(run_dir: Union[str, Path], n: int = 10000, seed: int = 0, device: str = "cpu",
             extractor: str = "auto", reference: str = "auto", write: bool = True,
             weights: Optional[str] = None, repeats: int = 1) -> dict[str, Any]:
    """Metrics of ``n`` samples of a trained run (EMA weights when present) against its
    reference set (the run's holdout when it has one, else its training data).
    Writes ``eval.json`` into the run folder.

    ``repeats`` > 1 draws the ``n`` samples that many times (latent seeds ``seed``,
    ``seed + 1``, ...) and reports each measure's median, with its min, max and standard
    deviation over the draws under ``spread`` (:func:`ganforge.metrics.evaluate.over_draws`).
    A reference set or sample count too small for the extractor's features to score
    reliably adds a line under ``warnings`` (:func:`ganforge.metrics.evaluate.count_warning`)."""
    import json
    import time

    from .metrics.evaluate import count_warning, evaluate_samples, over_draws, reference_set

    if n < 10:
        raise ConfigError(f"--n must be at least 10, got {n}")
    if repeats < 1:
        raise ConfigError(f"--repeats must be at least 1, got {repeats}")
    t0 = time.perf_counter()
    run = load_model(run_dir, device)
    _require_samples_fit(n, run.data, "--n")
    if reference == "holdout" and run.data.holdout_x is None:
        raise ConfigError("this run has no holdout (data.holdout=0); use --reference train")
    real, which = reference_set(run.data, reference)
    draws = [evaluate_samples(run.model.generate_n(n, seed + i), real.cpu(), extractor=extractor,
                              toy_info=run.data.info, device=device, data_name=run.data.name, weights=weights)
             for i in range(repeats)]
    m = draws[0] if repeats == 1 else over_draws(draws)
    m.update(step=run.step, reference=which, seed=seed,
             weights="ema" if run.model.ema is not None else "generator", seconds=round(time.perf_counter() - t0, 2))
    warning = count_warning(m)
    if warning:
        m["warnings"] = [warning]
    if write:
        from .train.checkpoint import atomic_write_bytes

        atomic_write_bytes(Path(run_dir) / "eval.json", json.dumps(m, indent=1).encode())
    return m
