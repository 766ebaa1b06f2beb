"""``ganforge tune``: Optuna studies over ganforge configs.

Every trial is a normal run folder (``STUDY/trials/trial_NNNN``), so any trial can be
resumed, evaluated or plotted. The periodic evaluation of training feeds the pruner.
Storage is a SQLite file in the study folder by default, or any SQLAlchemy URL, so that
several ``ganforge tune`` processes on several machines share one study. The total
number of trials is counted in the storage: re-running the same command after an
interruption only runs the trials still missing.
"""
from __future__ import annotations

import logging
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

from ..errors import ConfigError, GanforgeError
from ..train.loop import Callback, RunStatus, Stop, Trainer
from .space import Space, load_space, suggest_config


class TrialFailed(GanforgeError):
    """A trial whose run diverged or whose sampled config was invalid."""


class PruningCallback(Callback):
    """Reports each evaluation to Optuna; asks the loop to stop when the pruner says so."""

    def __init__(self, trial, metric: str) -> None:
        self.trial, self.metric = trial, metric
        self.seen = -1
        self.pruned = False

    def on_step(self, t: Trainer, stats) -> Optional[list]:
        rec = t.last_eval
        if not rec or rec["step"] == self.seen or self.metric not in rec:
            return None
        self.seen = rec["step"]
        self.trial.report(float(rec[self.metric]), rec["step"])
        if self.trial.should_prune():
            self.pruned = True
            return [Stop(f"pruned at step {rec['step']} ({self.metric} {rec[self.metric]:.4g})", RunStatus.PRUNED)]
        return None


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ConfigError("ganforge tune needs Optuna, which the ganforge install brings: pip install 'optuna>=3.4'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    opt_log = logging.getLogger("optuna.study._optimize")
    if not any(isinstance(f, _FailedTrialRecords) for f in opt_log.filters):
        opt_log.addFilter(_FailedTrialRecords())
    return optuna


class _FailedTrialRecords(logging.Filter):
    """Drops Optuna's records of a failed trial (a traceback of ganforge's own exception,
    then "failed with value None"): the study's line for that trial gives its reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not (msg.startswith("Trial ") and " failed " in msg)


def open_storage(url: str, attempts: int = 5, **kwargs: Any):
    """Optuna's RDBStorage for ``url``, tolerating another process that creates the same
    schema at the same moment: two machines starting one study on a fresh database both
    issue CREATE TYPE / CREATE TABLE, and the slower one fails with a duplicate error. The
    schema is complete once the faster one is done, so a short wait and a second try
    succeed. Other errors (a wrong URL, no server) are raised at once."""
    optuna = _optuna()
    from sqlalchemy.exc import IntegrityError, ProgrammingError, SQLAlchemyError

    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url, **kwargs)
        except (IntegrityError, ProgrammingError) as e:
            if attempt == attempts - 1:
                raise ConfigError(storage_error(url, e)) from None
            time.sleep(0.5 * (attempt + 1) + random.Random().random())  # jitter; own RNG, no global state
        except (SQLAlchemyError, ImportError, ValueError) as e:
            raise ConfigError(storage_error(url, e)) from None
    raise AssertionError("unreachable")  # pragma: no cover


def torch_threads(n: int) -> None:
    """This process's torch thread count (the trials' auto thread choice starts from it)."""
    import torch

    torch.set_num_threads(n)


def storage_error(url: str, e: BaseException) -> str:
    """One line that says what is wrong with ``--storage`` (password hidden)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable: show it as given, it holds no recognisable password
        shown = url
    if isinstance(e, NoSuchModuleError):
        scheme = url.split(":", 1)[0]
        why = (f"unknown database kind {scheme!r} (use sqlite:///FILE, postgresql://..., "
               "mysql://... or another SQLAlchemy URL)")
    elif isinstance(e, ArgumentError):
        why = "not a database URL (expected e.g. sqlite:///study.db or postgresql://user:pass@host/db)"
    elif isinstance(e, ImportError):
        # Optuna re-raises the driver's ImportError with its own text: name the module
        cause = e.__cause__ if isinstance(e.__cause__, ImportError) else e
        missing = f"no module {cause.name!r}; " if getattr(cause, "name", None) else ""
        why = (f"the Python driver for this database is not installed ({missing}PostgreSQL: pip install "
               "'ganforge[postgres]' and use postgresql+psycopg2://...; MySQL: pip install pymysql and use "
               "mysql+pymysql://...)")
    elif isinstance(e, OperationalError):
        detail = str(getattr(e, "orig", None) or e).strip().splitlines()
        why = f"cannot open the database ({detail[0] if detail else 'operational error'})"
        if url.startswith("sqlite"):
            why += "; does the folder exist and is it writable?"
    else:
        first = str(e).strip().splitlines()
        why = first[0] if first else type(e).__name__
    return f"--storage {shown}: {why}"


def make_study(space: Space, storage: str, name: str, seed: Optional[int] = None):
    optuna = _optuna()
    if space.sampler == "grid":
        sampler = optuna.samplers.GridSampler(space.grid(), seed=seed)
    elif space.sampler == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=3)
    pruner = {"median": lambda: optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0),
              "hyperband": lambda: optuna.pruners.HyperbandPruner(),
              "none": lambda: optuna.pruners.NopPruner()}[space.pruner]()
    import warnings

    kwargs: dict[str, Any] = {"heartbeat_interval": 30, "grace_period": 90}
    if storage.startswith("sqlite"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    with warnings.catch_warnings():  # Optuna calls heartbeats experimental; only here, not process-wide
        warnings.filterwarnings("ignore", message=".*heartbeat_interval.*")
        st = open_storage(storage, **kwargs)
    return optuna.create_study(study_name=name, storage=st, sampler=sampler, pruner=pruner,
                               direction=space.direction, load_if_exists=True)


def objective_value(space: Space, result) -> float:
    if space.mode == "best" and result.best and result.best.get("metric") == space.metric:
        return float(result.best["value"])
    for src in (result.last_eval, result.metrics):
        if space.metric in src and isinstance(src[space.metric], (int, float)):
            return float(src[space.metric])
    raise TrialFailed(f"metric {space.metric!r} was not measured (set eval.every in the space's base config)")


def run_trials(space_path: str | Path, trials: int, folder: Path, storage: Optional[str] = None,
               study: Optional[str] = None, seed: Optional[int] = None,
               log: Callable[[str], None] = print, overrides: Optional[list[str]] = None) -> Any:
    """Run trials in this process until the study holds ``trials`` finished trials."""
    from .. import api

    optuna = _optuna()
    space = load_space(space_path, overrides)
    folder.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(folder / 'study.db').resolve()}"
    name = study or folder.name
    st = make_study(space, storage, name, seed)
    st.set_user_attr("space", str(Path(space_path)))
    st.set_user_attr("folder", str(folder.resolve()))

    def objective(trial) -> float:
        try:
            cfg = suggest_config(space, trial)
        except GanforgeError as e:
            trial.set_user_attr("reason", str(e))
            raise TrialFailed(f"invalid sampled config: {e}") from None
        run_dir = folder / "trials" / f"trial_{trial.number:04d}"
        if run_dir.exists():  # an earlier attempt of this number died: start clean
            import shutil

            shutil.rmtree(run_dir)
        cfg.out = str(run_dir)
        trial.set_user_attr("run_dir", str(run_dir))
        pruning = PruningCallback(trial, space.metric)
        res = api.train(cfg, log=lambda m: None, extra_callbacks=[pruning, TrialProgress(trial.number, space.metric, log)])
        trial.set_user_attr("status", res.status)
        if pruning.pruned:
            trial.set_user_attr("reason", res.reason)
            raise optuna.TrialPruned(res.reason)
        if res.status == "failed":
            trial.set_user_attr("reason", res.reason)
            raise TrialFailed(f"run diverged: {res.reason}")
        try:
            value = objective_value(space, res)
            if not math.isfinite(value):
                raise TrialFailed(f"{space.metric} is {value}")
        except TrialFailed as e:
            trial.set_user_attr("reason", str(e))
            raise
        return value

    def progress(study_, trial) -> None:
        v = f"{trial.value:.4g}" if trial.value is not None else "-"
        reason = trial.user_attrs.get("reason", "")
        log(f"trial {trial.number}: {trial.state.name.lower()} {space.metric}={v} {trial.params} {reason}".rstrip())

    done_states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)
    remaining = trials - len(st.get_trials(deepcopy=False, states=done_states))
    if remaining > 0:
        st.optimize(objective, n_trials=remaining, catch=(GanforgeError,),
                    callbacks=[optuna.study.MaxTrialsCallback(trials, states=done_states), progress])
    return st


class TrialProgress(Callback):
    """While a trial runs: a line at least every ``every_s`` seconds with its step and the
    last value of the study's metric (a trial of minutes would otherwise be silent)."""

    order = 95

    def __init__(self, number: int, metric: str, log: Callable[[str], None], every_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.number, self.metric, self.log, self.every_s, self.clock = number, metric, log, every_s, clock
        self.last = 0.0

    def on_start(self, t: Trainer) -> None:
        self.last = self.clock()

    def on_step(self, t: Trainer, stats) -> None:
        now = self.clock()
        if now - self.last < self.every_s:
            return
        self.last = now
        v = t.last_eval.get(self.metric)
        shown = f" {self.metric}={v:.4g} (step {t.last_eval['step']})" if isinstance(v, (int, float)) else ""
        self.log(f"trial {self.number}: running, step {t.step}/{t.cfg.train.iters}{shown}")


def tune(space_path: str | Path, trials: int, folder: Path, storage: Optional[str] = None,
         study: Optional[str] = None, workers: int = 1, seed: Optional[int] = None,
         log: Callable[[str], None] = print, overrides: Optional[list[str]] = None):
    """Run a study with ``workers`` processes on this machine (all sharing the storage)."""
    if trials <= 0 or workers <= 0:
        raise ConfigError("--trials and --workers must be > 0")
    overrides = list(overrides or [])
    load_space(space_path, overrides)  # fail fast on a bad space before starting workers
    folder = Path(folder)
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(folder / 'study.db').resolve()}"
    study = study or folder.name
    try:
        make_study(load_space(space_path, overrides), storage, study, seed)  # create once, before the workers race
    except BaseException:
        if made and not any(folder.iterdir()):  # a storage that failed leaves no empty study folder behind
            folder.rmdir()
        raise
    # each of the K processes gets its share of the cores: K processes with torch's default
    # thread count each would spin-wait against one another (docs/scale.md)
    share = max(1, (os.cpu_count() or 1) // workers)
    env = dict(os.environ, GANFORGE_TUNE_WORKER="1")
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = str(share)
        torch_threads(share)
    procs = []
    for _ in range(workers - 1):
        cmd = [sys.executable, "-m", "ganforge", "tune", "--space", str(space_path), "--trials", str(trials),
               "--out", str(folder), "--storage", storage, "--study", study, "--workers", "1"]
        cmd += [a for o in overrides for a in ("--set", o)]
        procs.append(subprocess.Popen(cmd, env=env))
    try:
        st = run_trials(space_path, trials, folder, storage, study, seed, log, overrides)
    finally:
        for p in procs:
            p.wait()
    return st
