"""Callbacks of the training loop: metrics file, health checks, TensorBoard, sample
grids, checkpoints, progress bar. Each does one job; the loop calls them in their declared
``order`` and applies the requests they return (loop.REQUEST_ORDER)."""
from __future__ import annotations

import math
import sys
import time
from typing import Any, Optional

import torch

from ..errors import RunError
from ..images import save_samples
from ..objectives import LOSSES
from .checkpoint import DiskFullError, save_checkpoint
from .loop import Callback, ExcludeTime, Fail, NewBest, Publish, Rollback, RunStatus, StepStats, Stop, Trainer, Warn
from .health import HealthMonitor
from .rundir import RunDir


class MetricsLogger(Callback):
    """Every ``log_every`` steps: one JSON line (interval means) in metrics.jsonl."""

    order = 10

    def __init__(self, run: RunDir) -> None:
        self.run = run
        self.acc = StepStats()

    def on_step(self, t: Trainer, stats: dict[str, torch.Tensor]) -> Optional[list]:
        self.acc.add(stats)
        if t.step % t.cfg.train.log_every == 0 or t.step == t.cfg.train.iters:
            rec: dict[str, Any] = {"step": t.step, "time": round(t.elapsed, 4)}
            # means over all ranks in a distributed run (every rank calls this)
            rec.update({k: _clean(v) for k, v in t.dist.reduce_means(self.acc.mean_tensors()).items()})
            self.run.append_metrics(rec)
            return [Publish("log", rec)]
        return None


def _clean(v: float) -> float | str:
    if math.isfinite(v):
        return float(f"{v:.6g}")
    return str(v)  # JSON has no NaN/inf; keep them readable


class HealthCallback(Callback):
    """Owns the run's health monitor: runs it on each new log record, evaluation and sample
    grid (``SampleWriter`` hands its grids here), reports its verdict as a ``Fail`` request,
    and rolls back or stops a failing run. Its monitor's history is checkpointed."""

    order = 20
    state_key = "health"

    def __init__(self, run: RunDir, log) -> None:
        self.run, self.log = run, log
        self.monitor = HealthMonitor()
        self.reported: tuple[Optional[str], bool] = (None, False)  #: the verdict last sent as a Fail
        self.seen_step = -1
        self.seen_eval = -1

    def state_dict(self) -> dict[str, Any]:
        return self.monitor.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state)

    def on_start(self, t: Trainer) -> None:
        self.monitor.set_loss(LOSSES.get(t.cfg.loss.name).wasserstein)
        if t.data.is_image:
            self.monitor.calibrate(t.data.x, t.cfg.train.iters)

    def on_step(self, t: Trainer, stats: dict[str, torch.Tensor]) -> list:
        out: list = []
        rec = t.last_record
        if rec and rec["step"] == t.step and rec["step"] != self.seen_step:
            self.seen_step = rec["step"]
            for w in self.monitor.check_record({k: (float(v) if isinstance(v, str) else v) for k, v in rec.items()}):
                out.append(self.warn(t, w))
        out += self.watch_coverage(t)
        m = self.monitor
        if m.failed and (m.failed, m.fatal) != self.reported:
            self.reported = (m.failed, m.fatal)
            out.append(Fail(m.failed, m.fatal))  # the verdict, for the loop and the run's status
        # fatal may also come from the checkpointer finding non-finite weights
        fatal, failed = m.fatal or t.fatal, t.failure or m.failed
        if fatal:
            back = self.rollback(t, failed)
            if back:
                m.failed, m.fatal = None, False  # judged afresh from the restored weights
                self.reported = (None, False)
                return out + back
        if fatal or (failed and t.cfg.train.stop_on_failure):
            out.append(Stop(f"failed: {failed}", RunStatus.FAILED))
        return out

    def watch_coverage(self, t: Trainer) -> list:
        """Coverage from evaluations: the Evaluator's records (FID runs: classes hit,
        recall) and, on data with known modes (toy mixtures, points with centres), a
        cheap modes-covered count every ``sample_every`` steps even without eval.every."""
        out: list = []
        ev = t.last_eval
        info = t.data.info
        if "centres" in info and not (t.cfg.eval.every or t.cfg.eval.every_seconds) and (t.step % t.cfg.train.sample_every == 0
                                                           or t.step == t.cfg.train.iters):
            import time

            from ..metrics.toy import mode_metrics

            t0 = time.perf_counter()
            m = mode_metrics(t.generate_n(2000, t.cfg.eval.seed), info["centres"], info["std"])
            ev = {"step": t.step, "time": round(t.elapsed, 4), **m}
            self.run.append_metrics(ev)
            out += [Publish("eval", ev), ExcludeTime(time.perf_counter() - t0)]
        if ev and ev.get("step") != self.seen_eval:  # the Evaluator runs after us: its record shows next step
            self.seen_eval = ev["step"]
            # classes_hit counts the digit classifier's classes: stalls are judged against the
            # data's labels only where those are digits (not a labelled folder's own classes)
            digits = t.num_classes if t.data.info.get("labels") != "subfolders" else 0
            for w in self.monitor.check_coverage(ev, classes=digits):
                out.append(self.warn(t, w))
        return out

    def rollback(self, t: Trainer, failed: Optional[str]) -> list:
        """Divergence guard: the requests that restore the last good checkpoint with lower
        learning rates (none when there is nothing to go back to)."""
        import warnings as _w

        from .checkpoint import load_latest

        if t.rollbacks >= t.cfg.train.max_rollbacks:
            return []
        # a log record at step s judges the weights from step s - log_every on: prefer a
        # checkpoint older than that, else the one at its start
        state = path = None
        for max_step in (t.step - t.cfg.train.log_every - 1, t.step - t.cfg.train.log_every):
            try:
                with _w.catch_warnings():
                    _w.simplefilter("ignore")
                    state, path = load_latest(self.run.checkpoints, max_step=max_step)
                break
            except RunError:
                continue
        if state is None or path is None:
            return []  # nothing to go back to
        factor = t.cfg.train.rollback_lr_factor
        lr_scale, rollbacks, step = t.lr_scale * factor, t.rollbacks + 1, int(state["step"])
        self.run.truncate_metrics(step)
        self.seen_step = step
        note = self.warn(t, f"rollback {rollbacks}/{t.cfg.train.max_rollbacks}: {failed}; restarted from "
                            f"step {step} ({path.name}) with learning rates x{lr_scale:g}",
                         step=step, elapsed=float(state["elapsed"]))
        return [Rollback(state, factor), note]

    def warn(self, t: Trainer, msg: str, step: Optional[int] = None, elapsed: Optional[float] = None) -> Warn:
        """Show and log a warning; the request that adds it to the run's result."""
        step = t.step if step is None else step
        self.log(f"warning: step {step}: {msg}")
        self.run.append_metrics({"step": step, "time": round(t.elapsed if elapsed is None else elapsed, 4), "warning": msg})
        return Warn(f"step {step}: {msg}")


class SampleWriter(Callback):
    """Every ``sample_every`` steps and at the end: samples/step_NNNNNN.png of the fixed latents."""

    order = 40

    def __init__(self, run: RunDir, health: Optional[HealthCallback] = None) -> None:
        self.run = run
        self.health = health
        self.last_path = None

    def on_start(self, t: Trainer) -> Optional[list]:
        if t.step == 0:
            return self.write(t)
        here = self.run.samples / f"step_{t.step:06d}.png"  # resumed: the grid of that step, if written
        self.last_path = here if here.is_file() else None
        return None

    def on_step(self, t: Trainer, stats) -> Optional[list]:
        return self.write(t) if t.step % t.cfg.train.sample_every == 0 else None

    def on_end(self, t: Trainer) -> Optional[list]:
        if self.last_path is None or not self.last_path.name.endswith(f"{t.step:06d}.png"):
            return self.write(t)
        return None

    def write(self, t: Trainer) -> list:
        fake = t.generate(t.fixed_z, t.fixed_y)
        real = t.data.x[:2000] if not t.data.is_image else None
        self.last_path = save_samples(fake, self.run.samples / f"step_{t.step:06d}.png", real=real,
                                      title=f"step {t.step}", nrow=t.grid_cols)
        ratio, warns = self.health.monitor.check_samples(fake, t.step) if self.health else (None, [])
        if ratio is not None:
            self.run.append_metrics({"step": t.step, "time": round(t.elapsed, 4), "diversity_ratio": round(ratio, 4)})
        return [self.health.warn(t, w) for w in warns] if self.health else []


class Checkpointer(Callback):
    """Every ``ckpt_every`` steps and at the end (or on interrupt): an atomic checkpoint."""

    order = 80

    def __init__(self, run: RunDir) -> None:
        self.run = run
        self.last_step = -1
        self.last_path = None

    def on_start(self, t: Trainer) -> Optional[list]:
        if t.step:  # resumed: from a checkpoint of this step
            self.last_step = t.step
            return None
        # the initial weights: a rollback target that is always there
        return self.save(t)

    def on_step(self, t: Trainer, stats) -> Optional[list]:
        return self.save(t) if t.step % t.cfg.train.ckpt_every == 0 else None

    def on_end(self, t: Trainer) -> Optional[list]:
        # never checkpoint non-finite weights over the last good checkpoint
        if self.last_step != t.step and not t.fatal:
            return self.save(t)
        return None

    def save(self, t: Trainer) -> Optional[list]:
        if t.fatal:
            return None
        if not t.weights_finite():  # the health callback rolls back or stops on the next step
            return [Fail(f"non-finite weights at step {t.step}")]
        state = t.checkpoint_state()  # a collective in a distributed run: every rank gets here
        try:
            self.write(t, state)
        except DiskFullError as e:
            # say what the user can do: continue from the last checkpoint, or start again
            hint = (f"free some space, then continue from step {self.last_step} with: ganforge train --resume "
                    f"{self.run.path}" if self.last_step >= 0 and self.last_path is not None else
                    "no checkpoint was written yet: free some space and start the run again")
            raise RunError(f"{e}; {hint}") from None
        return None

    def write(self, t: Trainer, state) -> None:
        if self.run.writable:  # other ranks of a distributed run only take part in the gathering
            self.last_path = save_checkpoint(self.run.checkpoints, t.step, state, t.cfg.train.keep_ckpts)
            self.run.write_status(status="running", step=t.step, checkpoint=self.last_path.name)
        self.last_step = t.step  # after the write: a failed one leaves the last good step


class TensorBoardLogger(Callback):
    """Scalars of each log record as TensorBoard events (``tensorboard --logdir runs/``)."""

    order = 30

    def __init__(self, run: RunDir) -> None:
        self.run = run
        self.writer = None
        self.seen = -1

    def on_start(self, t: Trainer) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard not installed: metrics.jsonl still has everything
            return
        self.writer = SummaryWriter(str(self.run.path / "tb"), purge_step=t.step + 1 if t.step else None)

    def on_step(self, t: Trainer, stats) -> None:
        rec = t.last_record
        if self.writer is None or not rec or rec["step"] == self.seen or rec["step"] != t.step:
            return
        self.seen = rec["step"]
        for k, v in rec.items():
            if k not in ("step", "time") and isinstance(v, float):
                self.writer.add_scalar(k, v, rec["step"])

    def on_end(self, t: Trainer) -> None:
        if self.writer is not None:
            self.writer.close()


class Progress(Callback):
    """A tqdm bar with the live losses on a terminal (of any size: one that reports 0 columns
    gets an 80-column bar); without a terminal, a plain line after the first step (the run
    has started), then at least every ``every_s`` seconds of wall clock, at every evaluation
    (with its metrics) and at the end."""

    KEYS = ("loss_d", "loss_g", "wasserstein", "penalty_weight", "ivgp_rho")
    order = 90

    def __init__(self, enabled: bool = True, every_s: float = 10.0, clock=time.monotonic, stream=None) -> None:
        self.enabled, self.every_s, self.clock = enabled, every_s, clock
        self.stream = stream
        self.bar = None
        self.tty = False
        self.seen = -1
        self.seen_eval = -1
        self.last_line = 0.0
        self.lines = 0

    def _out(self):
        return self.stream if self.stream is not None else sys.stderr

    def on_start(self, t: Trainer) -> None:
        if not self.enabled:
            return
        self.tty = self._out().isatty()
        self.last_line = self.clock()
        if not self.tty:
            return
        from tqdm import tqdm

        cols = _terminal_columns(self._out())
        self.bar = tqdm(total=t.cfg.train.iters, initial=t.step, unit="it", desc="train", file=self._out(),
                        dynamic_ncols=cols > 0, ncols=None if cols > 0 else 80)

    def on_step(self, t: Trainer, stats) -> None:
        if not self.enabled:
            return
        rec, ev = t.last_record, t.last_eval
        if self.bar is not None:
            self.bar.update(1)
            if rec and rec["step"] == t.step and rec["step"] != self.seen:
                self.seen = rec["step"]
                self.bar.set_postfix(self.parts(t), refresh=False)
            return
        new_eval = bool(ev) and ev.get("step") == t.step and ev.get("step") != self.seen_eval
        if new_eval:
            self.seen_eval = ev["step"]
        now = self.clock()
        if not self.lines or new_eval or now - self.last_line >= self.every_s or t.step == t.cfg.train.iters:
            self.last_line, self.lines = now, self.lines + 1
            rate = t.step / t.elapsed if t.elapsed else 0.0
            parts = self.parts(t)
            print(f"step {t.step}/{t.cfg.train.iters} " + " ".join(f"{k}={v}" for k, v in parts.items())
                  + f" ({rate:.2f} it/s)", file=self._out(), flush=True)

    def parts(self, t: Trainer) -> dict[str, str]:
        """The last logged losses and the last evaluation's headline measures, formatted."""
        rec = t.last_record or {}
        parts = {k: f"{rec[k]:.3g}" for k in self.KEYS if isinstance(rec.get(k), float)}
        from ..metrics.evaluate import HEADLINE  # the measures a run's quality is told by

        for k in HEADLINE:
            if isinstance(t.last_eval.get(k), (int, float)):
                parts[k] = f"{t.last_eval[k]:.4g}"
        return parts

    def write(self, msg: str) -> None:
        if self.bar is not None:
            self.bar.write(msg, file=self._out())
        else:
            print(msg, file=self._out(), flush=True)

    def on_end(self, t: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()


def _terminal_columns(stream) -> int:
    """The terminal's width (0 when it reports none, as a pty of size 0x0 does)."""
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, AttributeError, ValueError):
        return 0


class Evaluator(Callback):
    """Every ``eval.every`` steps: metrics of ``eval.n`` samples against the reference set
    (with ``eval.repeats`` > 1, each measure's median over that many draws of the latents),
    written to metrics.jsonl; the checkpoint of the best value so far (of the first metric
    the data has: FID, else W1) is kept in checkpoints/best/ (one file, with its manifest).
    Evaluation time is not counted as training time."""

    order = 50

    def __init__(self, run: RunDir, log) -> None:
        self.run, self.log = run, log
        self.ext = None
        self.next_time = math.inf  #: training-clock time of the next eval.every_seconds evaluation

    def on_start(self, t: Trainer) -> None:
        es = t.cfg.eval.every_seconds
        self.next_time = es * (math.floor(t.elapsed / es) + 1) if es else math.inf
        if (t.cfg.eval.every or es) and t.data.is_image:
            from ..metrics.evaluate import pick_extractor
            from ..metrics.features import build_extractor

            name = pick_extractor(t.data.x, t.data.name) if t.cfg.eval.extractor == "auto" else t.cfg.eval.extractor
            if name is None:
                from ..errors import ConfigError

                raise ConfigError("eval.every is set but no feature extractor fits this data; set eval.extractor "
                                  "(colour photos: eval.extractor=inception, after pip install 'ganforge[inception]')")
            self.ext = build_extractor(name, device=t.device)

    def on_step(self, t: Trainer, stats) -> Optional[list]:
        c = t.cfg.eval
        if (c.every and t.step % c.every == 0) or t.elapsed >= self.next_time:
            if c.every_seconds:
                self.next_time = c.every_seconds * (math.floor(t.elapsed / c.every_seconds) + 1)
            return self.evaluate(t)
        return None

    def evaluate(self, t: Trainer) -> list:
        import time

        from ..metrics.evaluate import evaluate_samples, over_draws, reference_set

        t0 = time.perf_counter()
        c = t.cfg.eval
        ref = reference_set(t.data, c.reference)[0].cpu()
        draws = []
        # every point of a run's curve samples the same latents (eval.seed, ...): steps of one
        # run compare on equal terms, but that draw's offset from the generator's typical
        # value stays along the whole curve (docs/results/quality-steps10000.md measured one
        # at 1.4x the median of 8 draws); eval.repeats > 1 logs the median over several draws
        for i in range(c.repeats):
            fake = t.generate_n(c.n, c.seed + i)
            if not torch.isfinite(fake).all():  # a diverged generator: the health callback takes over
                return [Fail(f"non-finite samples at step {t.step}"), ExcludeTime(time.perf_counter() - t0)]
            draws.append(evaluate_samples(fake, ref, toy_info=t.data.info, kid_subsets=c.kid_subsets,
                                          kid_subset_size=min(1000, c.n), extractor_obj=self.ext, device=str(t.device),
                                          metrics=c.metrics or None))
        m = draws[0] if c.repeats == 1 else over_draws(draws)
        key = next((k for k in ("fid", "w1") if k in m), None)  # eval.metrics may leave FID out
        spread = m.pop("spread", {})
        if key is not None and key in spread:
            m[key + "_sd"] = spread[key]["sd"]
        rec = {"step": t.step, "time": round(t.elapsed, 4)}
        rec.update({k: (round(v, 6) if isinstance(v, float) else v) for k, v in m.items()})
        out: list = []
        if key is not None:
            best = t.best.get("value")
            if best is None or m[key] < best:
                best = float(m[key])
                out.append(NewBest(key, best, t.step))
                save_checkpoint(self.run.checkpoints / "best", t.step, t.state_dict(), keep=1)
            rec["best_" + key] = best
        self.run.append_metrics(rec)
        return out + [Publish("eval", rec), ExcludeTime(time.perf_counter() - t0)]
