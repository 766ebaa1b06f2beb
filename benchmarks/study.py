"""The study runner: what every benchmark study (the quality suite, the paper study, time to
quality) shares, so that each study is a declaration of its cells and its page.

* :class:`Study`: the cells of one study, each (task, config, seed) a JSON file written
  atomically when it finishes; a rerun skips finished cells, so a study can stop (or be
  killed) and continue, and its page is rewritten from whatever cells exist.
* :func:`resolved`: a cell's config through ``ganforge.resolve`` (the rule every route
  follows), with the data recipe under it only where the study asks for it.
* :func:`train_and_measure`: one run (from scratch, or continued from the checkpoint of an
  interrupted attempt at the same config), then its final quality from the saved model (EMA
  weights when on).
* Curves and statistics: :func:`curve`, :func:`first_reach`, :func:`median_range`,
  :func:`median_iqr`, :func:`median_or_none`, :func:`mann_whitney`.
"""
from __future__ import annotations

import json
import math
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

from ganforge import api  # noqa: E402
from ganforge.config import Config  # noqa: E402
from ganforge.resolve import resolve  # noqa: E402
from ganforge.errors import GanforgeError  # noqa: E402
from ganforge.train.checkpoint import atomic_write_bytes, read_manifest  # noqa: E402
from ganforge.train.loop import Callback  # noqa: E402

Key = tuple[str, str, int]  #: (task, config, seed)


class Study:
    """The finished cells of one study, under ``out/NAME/cells`` (``cells-BUDGET`` for
    another budget than the time budget: ``cells-steps``, ``cells-steps10000``)."""

    def __init__(self, name: str, out: Path, budget: str = "time") -> None:
        self.name, self.out, self.budget = name, out, budget
        self.folder = out / name / ("cells" if budget == "time" else f"cells-{budget}")

    def path(self, task: str, config: str, seed: int) -> Path:
        return self.folder / task / config / f"seed{seed}.json"

    def load(self) -> list[dict]:
        """Every finished cell, in path order."""
        if not self.folder.is_dir():
            return []
        return [json.loads(p.read_text()) for p in sorted(self.folder.glob("*/*/seed*.json"))]

    def run(self, plan: Iterable[Key], run_cell: Callable[[str, str, int], dict],
            after: Optional[Callable[[], None]] = None, say_skips: bool = False) -> int:
        """Run each cell of ``plan`` not yet finished, writing it as it finishes and calling
        ``after`` (the page) after each one. Returns how many cells ran. A Ctrl-C says in one
        line how to go on and exits 130."""
        ran = 0
        for task, config, seed in plan:
            path = self.path(task, config, seed)
            name = f"{task}/{config}/seed{seed}"
            if path.exists():
                if say_skips:
                    print(f"skip {name} (done)", flush=True)
                continue
            print(f"run  {name} ...", flush=True)
            try:
                cell = run_cell(task, config, seed)
            except KeyboardInterrupt:
                # one line, not a traceback: the user stopped it, and nothing is lost that the
                # same command cannot take up (finished cells stay; a step-budget run goes on
                # from its newest checkpoint)
                print(f"interrupted in {name}: the same command goes on (finished cells are kept; a "
                      f"step-budget cell continues from its newest checkpoint)", file=sys.stderr, flush=True)
                raise SystemExit(130) from None
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, json.dumps(cell, indent=1).encode())
            ran += 1
            f = cell["final"]
            print(f"done {name}: {cell['steps']} steps in {cell['seconds']} s: "
                  + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in f.items()), flush=True)
            if after is not None:
                after()
        return ran


def resolved(config: dict[str, Any], preset: Optional[str] = None, recipe: bool = False) -> Config:
    """A cell's config by the rule every route follows: ``preset`` < ``config``; the data's
    recipe under it only with ``recipe=True`` and no preset (a study names what it trains)."""
    return resolve(preset, config=config, recipes=recipe).config


def machine_name() -> str:
    """What a cell ran on: the CPU, and the GPU when training used one."""
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{platform.machine()}, {os.cpu_count()} cores{gpu}, torch {torch.__version__}"


def emit_table(lines: list[str], out: Optional[Path]) -> None:
    """A benchmark's Markdown page: printed, and written to ``out`` when one is given."""
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        out.write_text(text)


def can_continue(run_dir: Path, cfg: Config) -> bool:
    """Whether ``run_dir`` holds an interrupted attempt at ``cfg`` that can go on: a checkpoint,
    and a stored config that is ``cfg`` in everything but ``train.iters``, which may ask for
    fewer steps (a cut-off test run) but not more (its checkpoints could be past this cell's end)."""
    run = api.RunDir(run_dir)
    try:
        # what resuming reads (load_latest): the manifest, or the checkpoint files without one
        if not (run.is_run() and run.checkpoints.is_dir() and read_manifest(run.checkpoints)):
            return False
        stored = Config.from_dict(run.read_config())
    except GanforgeError:  # unreadable, refused, or a config older code wrote: start again
        return False
    if stored.train.iters > cfg.train.iters:
        return False
    stored.train.iters = cfg.train.iters
    return stored.to_dict() == cfg.to_dict()


class EvalLines(Callback):
    """One line per evaluation of a cell's run (``say(prefix + "step N/M: fid=12.3 ...")``, the
    measures as ``ganforge train`` sums a run up: metrics.evaluate.headline), so
    that a cell of hours shows where it is; it reads the evaluation the loop kept and
    changes nothing."""

    order = 95  # after the evaluation (50) that it reports

    def __init__(self, say: Callable[[str], None], prefix: str = "") -> None:
        self.say, self.prefix, self.seen = say, prefix, -1

    def on_step(self, t, stats) -> None:
        from ganforge.metrics.evaluate import headline

        ev = t.last_eval
        if not ev or ev.get("step") != t.step or t.step == self.seen:
            return
        self.seen = t.step
        self.say(f"{self.prefix}step {t.step}/{t.cfg.train.iters}: {headline(ev)}")


def train_and_measure(cfg: Config, measure: Callable[[api.LoadedModel], dict], resume: bool = False,
                      say: Optional[Callable[[str], None]] = None, prefix: str = "") -> tuple:
    """Train one cell's run in ``cfg.out`` and measure its end: (result, the loaded model,
    final metrics, wall seconds). An earlier attempt there is discarded, unless ``resume`` and
    it can go on (:func:`can_continue`): then training continues from its newest checkpoint,
    as ``ganforge train --resume`` would (the library's resume is exact, so the cell ends
    where one straight run ends). Only step-counted cells resume: a time budget's clock does
    not survive a restart on a different day. With ``say``, each evaluation is reported
    (:class:`EvalLines`)."""
    run_dir = Path(cfg.out)
    t0 = time.time()
    extra = [EvalLines(say, prefix)] if say is not None else None
    if resume and can_continue(run_dir, cfg):
        res = api.train(resume=run_dir, overrides=[f"train.iters={cfg.train.iters}"], log=lambda m: None,
                        extra_callbacks=extra)
    else:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        res = api.train(cfg, log=lambda m: None, extra_callbacks=extra)
    model = api.load_model(run_dir)
    fin = measure(model)
    return res, model, fin, time.time() - t0


def cell_record(res, fin: dict, wall: float, **fields: Any) -> dict:
    """The fields every cell stores about its run."""
    return {**fields, "status": res.status.value, "reason": res.reason, "steps": res.step,
            "seconds": round(res.elapsed, 1), "wall_seconds": round(wall, 1), "final": fin}


# ---------------------------------------------------------------------- curves and statistics
def curve(records: list[dict], keys: Iterable[str], present: Iterable[str]) -> list[dict]:
    """Step, time and ``keys`` of each metrics record that holds one of ``present``."""
    keys, present = tuple(keys), tuple(present)
    return [{k: r[k] for k in ("step", "time", *keys) if k in r} for r in records if any(k in r for k in present)]


def first_reach(points: list[dict], key: str, threshold: float, x: str, higher_is_better: bool = False) -> Optional[float]:
    """``x`` (e.g. "step" or "time") of the first point whose ``key`` reaches ``threshold``;
    None when none does."""
    for p in points:
        if key in p and (p[key] >= threshold if higher_is_better else p[key] <= threshold):
            return p[x]
    return None


def _sig(v: float, digits: int) -> str:
    """``digits`` significant digits; a value of more integer digits than that is written
    whole (10506 steps, not 1.051e+04)."""
    return f"{v:.0f}" if abs(v) >= 10 ** digits else f"{v:.{digits}g}"


def median_range(vals: list[float], digits: int = 3) -> str:
    """``median [min-max]`` (one value alone; "-" for none)."""
    if not vals:
        return "-"
    med = statistics.median(vals)
    if len(vals) == 1:
        return _sig(med, digits)
    return f"{_sig(med, digits)} [{_sig(min(vals), digits)}-{_sig(max(vals), digits)}]"


def median_iqr(vals: list[float], digits: int = 3) -> str:
    """``median [q1-q3]`` (inclusive quartiles; one value alone; "-" for none)."""
    if not vals:
        return "-"
    if len(vals) == 1:
        return _sig(vals[0], digits)
    qs = statistics.quantiles(vals, n=4, method="inclusive")
    return f"{_sig(statistics.median(vals), digits)} [{_sig(qs[0], digits)}-{_sig(qs[2], digits)}]"


def median_or_none(values: list[Optional[float]]) -> Optional[float]:
    """Median over seeds where None (never reached) counts as infinitely slow."""
    v = sorted(math.inf if x is None else x for x in values)
    m = statistics.median(v)
    return None if math.isinf(m) else m


def mann_whitney(a: list[float], b: list[float]) -> Optional[float]:
    """Two-sided Mann-Whitney U p-value (None when either side has under 3 seeds)."""
    if len(a) < 3 or len(b) < 3:
        return None
    from scipy.stats import mannwhitneyu

    if len(set(a) | set(b)) == 1:
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
