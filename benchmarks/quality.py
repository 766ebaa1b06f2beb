#!/usr/bin/env python3
"""The quality suite: each task trained to a fixed budget, 3 seeds, final quality and the
curve (quality against seconds and against generator steps), with sample pictures.

    python benchmarks/quality.py --mnist ../shared/data/mnist                 # everything
    python benchmarks/quality.py --tasks ring8,grid25 --configs default --seeds 0
    python benchmarks/quality.py --budget steps                                # other machines
    python benchmarks/quality.py --report-only                                 # rewrite the page
    python benchmarks/quality.py --report-only --out DIR --no-notes            # a rerun's page in DIR
    python benchmarks/quality.py --tasks mnist --configs tutorial-dcgan,r3gan-mlp-mnist --budget steps5000

Tasks, budgets (training clock, evaluation excluded) and measures:
  ring8, grid25   2 min   modes covered, high-quality share (toy metrics, 2,000 samples)
  swissroll       2 min   exact W1 of 2,000 samples to a fresh real sample of 2,000,
                          beside the W1 between two fresh real samples (the floor)
  digits          3 min   digits-extractor FID of 297 samples against the 297 held-out
                          digits, beside held-out vs 297 training digits (the floor)
  mnist          10 min   mnist-lenet FID, precision, recall, classes covered of 2,000
                          samples against 2,000 held-out images (train on the other 8,000
                          of ../shared/data/mnist), beside held-out vs 2,000 training images
  stackedmnist   10 min   modes covered of 1,000 and KL to uniform on 26,000 samples
                          (stacked-lenet), FID of 2,000
  lfw             3 min   FID of 40 samples against the 40 held-out faces of the 200 that
                          scikit-image ships, at 32 px (mnist-lenet features: grey images)
  folder32       10 min   as mnist, from the MNIST files written once as 32 px grey PNGs
                          and read back through data.name=imagefolder (the folder path)
  folder32c      10 min   as stackedmnist, from its 26,000 images written once as 32 px
                          colour PNGs and read back through data.name=imagefolder
  folder64,      10 min   folder32 and folder32c at 64 px, the side an image folder is
  folder64c               resized to when no --size is given (its recipe is chosen here)

Tasks, configs and targets are declared in quality_tasks.py (CONFIGS names the configs: the
default that `ganforge train` uses for the data now, the previous default, and presets); the
page is written by quality_page.py. A cell is (task, config, seed); each writes
docs/results/quality/cells/TASK/CONFIG/seedN.json when done, and a rerun skips finished
cells, so the suite can stop and continue; a step-counted cell stopped part way (ganforge's or
the tutorial's) continues from its last checkpoint, bit for bit.
Run folders go to bench_runs/quality/ (not committed). The page docs/results/quality.md
(quality-BUDGET.md for a steps budget) is rewritten from all finished cells after every cell.

--budget steps trains each task for a fixed number of generator steps instead (each task's
"steps" in TASKS: what the default config reached in the time budget on the 2-core CPU this
page was made on), for machines of other speeds; --budget stepsN trains N steps. --budget
timeN trains every task for N seconds of training clock (another machine's minutes, e.g.
time120 on a GPU; the CPU's targets are for its own budget, so such a page judges none).
Those cells are stored apart (cells-steps/, cells-stepsN/, cells-timeN/), each with its page.
"""
from __future__ import annotations

import argparse
import math
import os
import pickle
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality_page import RESULTS, page_name, picture_name, study, write_page  # noqa: E402
from quality_tasks import (CONFIGS, CURVE_POINTS, MNIST_FILES, N_TOY,  # noqa: E402
                           ONLY_ON, PNG_TASKS, TASKS, TUTORIALS, budget_parts, is_timed, seconds_of,
                           steps_of)
from study import cell_record, curve, machine_name, resolved, train_and_measure  # noqa: E402
from ganforge import api  # noqa: E402
from ganforge.config import Config, DataConfig, deep_merge  # noqa: E402
from ganforge.data.toy import make_toy  # noqa: E402
from ganforge.metrics.evaluate import evaluate_samples  # noqa: E402
from ganforge.metrics.toy import exact_w1, mode_metrics  # noqa: E402
from ganforge.resolve import recipe_for  # noqa: E402


def same_as(task: str, config: str) -> Optional[str]:
    """The named config that "default" is on this task, if any: the classic setting where the
    task's data has no recipe, or the config that is exactly the recipe's preset. Its cells are
    that config's; running "default" too would train the same thing twice."""
    if config != "default":
        return None
    recipe, _ = recipe_for(DataConfig(**TASKS[task]["data"]))
    if recipe is None:
        return "classic"
    return next((name for name, (preset, extra) in CONFIGS.items() if preset == recipe and not extra), None)


def task_dict(task: str, config: str, seed: int, budget: str, mnist: Optional[Path], run_dir: Path) -> dict:
    """What the task sets of a cell's config (data, budget, evaluation cadence, run folder)
    over the config's own settings; the preset beneath comes in :func:`task_config`."""
    spec = TASKS[task]
    d = dict(CONFIGS[config][1])
    data = dict(spec["data"])
    if task in MNIST_FILES:
        if mnist is None:
            raise SystemExit(f"the {task} task needs --mnist DIR")
        # a folder task's folder is only named here (resolving a config writes nothing); a
        # cell makes it before it trains (make_task_data)
        data["dir"] = str(png_folder(ROOT / "bench_runs", task) if task in PNG_TASKS else mnist.resolve())
    d = deep_merge(d, {"data": data})
    train = {"seed": seed, "tensorboard": False, "sample_every": 10**9, "ckpt_every": 10**9}
    if is_timed(budget):
        secs = seconds_of(task, budget)
        train.update(iters=10**9, max_seconds=float(secs))
        ev = {"every_seconds": secs / CURVE_POINTS, "every": 0}
    else:
        steps = steps_of(task, budget)
        # a step-counted cell checkpoints 10 times, so that a stopped suite continues it
        # (train_and_measure's resume) instead of starting hours of training again
        train.update(iters=steps, max_seconds=None, ckpt_every=max(1, steps // 10))
        ev = {"every": max(1, steps // CURVE_POINTS), "every_seconds": None}
    ev["n"] = spec.get("n_eval", N_TOY)
    if "extractor" in spec:  # a folder's images say nothing of their kind: the task names the features
        ev["extractor"] = spec["extractor"]
    return deep_merge(d, {"train": train, "eval": ev, "out": str(run_dir)})


def png_folder(under: Path, task: str = "folder32") -> Path:
    """Where the suite keeps a folder task's PNGs."""
    return under / "quality" / task


def make_task_data(task: str, mnist: Optional[Path]) -> None:
    """What a task's data needs on disk before a cell trains (a folder task: its PNGs)."""
    if task in PNG_TASKS and mnist is not None:
        mnist_png_folder(mnist, ROOT / "bench_runs", task, TASKS[task]["data"]["size"])


def mnist_png_folder(mnist: Path, under: Path, task: str = "folder32", size: int = 32) -> Path:
    """A folder task's images as ``size`` px PNGs, made from the MNIST files: MNIST's grey
    digits (folder32) or the stackedmnist task's colour images (folder32c). Made once; a
    marker file says it is complete, so a folder half-written by a stopped suite is made again.
    It is written beside its place and renamed into it when complete, so cells started side by
    side (each making the folder) never read a file another is still writing."""
    import torch.nn.functional as F
    from PIL import Image

    from ganforge.config import DataConfig
    from ganforge.data import load_dataset

    folder = png_folder(under, task)
    if (folder / "COMPLETE").is_file():
        return folder
    part = folder.parent / f".{folder.name}.{os.getpid()}.partial"  # this process's own
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    kind = PNG_TASKS[task]
    data = {"name": kind, "dir": str(mnist.resolve())}
    if kind == "stackedmnist":  # the stackedmnist task's images, holdout included
        data["n_samples"] = TASKS["stackedmnist"]["data"]["n_samples"]
    x = load_dataset(DataConfig(**data)).x
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    pix = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for i, a in enumerate(pix):
        Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a).save(part / f"{i:05d}.png")  # uint8: L or RGB
    (part / "COMPLETE").write_text(f"{len(pix)} images\n")
    if folder.exists() and not (folder / "COMPLETE").is_file():  # half-written by an older suite
        shutil.rmtree(folder, ignore_errors=True)
    try:
        part.rename(folder)
    except OSError:  # another cell completed the same folder first: its images are these
        shutil.rmtree(part)
    if not (folder / "COMPLETE").is_file():  # a half-written folder that could not be removed
        raise SystemExit(f"{folder}: incomplete and could not be replaced; remove it and run again")
    return folder


def task_config(task: str, config: str, seed: int, budget: str, mnist: Optional[Path], run_dir: Path) -> Config:
    """A cell's config, through the resolver: the config's preset under the task's settings;
    "default" takes the data's recipe as `ganforge train` does, "classic" none."""
    preset = CONFIGS[config][0]
    d = task_dict(task, config, seed, budget, mnist, run_dir)
    if preset == "<data recipe>":
        return resolved(d, recipe=True)
    return resolved(d, preset=preset)


class Floors:
    """Real-against-real references at the sample sizes of the measures."""

    def __init__(self) -> None:
        self.cache: dict[str, dict] = {}

    def get(self, task: str, trainer: api.LoadedModel) -> dict:
        """The floors of ``task`` in the images ``trainer`` trains on (the tutorial's are
        resized to its side: floors are kept per task and side)."""
        key = f"{task}@{trainer.data.x.shape[-1]}" if trainer.data.x.dim() == 4 else task
        if key in self.cache:
            return self.cache[key]
        spec = TASKS[task]
        out: dict[str, float] = {}
        if task == "swissroll":
            a, b = make_toy("swissroll", N_TOY, 10_001), make_toy("swissroll", N_TOY, 10_002)
            out["w1_floor"] = exact_w1(a, b)
        elif spec["kind"] == "image":
            n = spec["n_eval"]
            hold = trainer.data.holdout_x
            g = torch.Generator().manual_seed(0)
            train = trainer.data.x[torch.randperm(len(trainer.data.x), generator=g)[:n]]
            m = evaluate_samples(train, hold, use_cache=False, data_name=trainer.data.name,
                                 extractor=task_extractor(task))
            out.update(fid_floor=m["fid"], precision_floor=m["precision"], recall_floor=m["recall"])
        self.cache[key] = out
        return out


def final_metrics(task: str, trainer: api.LoadedModel, seed: int) -> dict:
    """Quality of the run's final sampler (EMA weights when on) on fresh latents."""
    spec = TASKS[task]
    n = spec.get("n_final", spec.get("n_eval", N_TOY))
    fake = trainer.model.generate_n(n, 99_000 + seed)
    if not torch.isfinite(fake).all():
        return {"diverged": True}
    out: dict[str, Any] = {}
    if spec["kind"] == "toy":
        kind = spec["data"]["toy"]
        if "centres" in trainer.data.info:
            out.update(mode_metrics(fake, trainer.data.info["centres"], trainer.data.info["std"]))
        out["w1"] = exact_w1(fake, make_toy(kind, n, 20_000 + seed))
    else:
        m = evaluate_samples(fake, trainer.data.holdout_x, use_cache=False, data_name=trainer.data.name,
                             extractor=task_extractor(task))
        out.update({k: m[k] for k in ("fid", "precision", "recall", "density", "coverage", "classes_hit",
                                      "modes_covered", "mode_kl") if k in m})
    return out


def measure(task: str, seed: int, floors: Floors) -> Callable[[api.LoadedModel], dict]:
    """The final measures of a task's run, with the floors beside them."""
    def fn(m: api.LoadedModel) -> dict:
        fin = final_metrics(task, m, seed)
        fin.update(floors.get(task, m))
        return fin
    return fn


class TutorialModel:
    """The tutorial's generator where final_metrics and the pictures expect a loaded run;
    ``data`` is the task's data as the tutorial trains on it (:func:`tutorial_data`)."""

    def __init__(self, g: torch.nn.Module, data) -> None:
        self.g, self.data, self.model = g.eval(), data, self

    @torch.no_grad()
    def generate_n(self, n: int, seed: int) -> torch.Tensor:
        from tutorial_dcgan import Z_DIM

        z = torch.randn(n, Z_DIM, generator=torch.Generator().manual_seed(seed))
        dev = next(self.g.parameters()).device  # the tutorial trains on the GPU when there is one
        return torch.cat([self.g(z[i:i + 1000].to(dev)).cpu() for i in range(0, n, 1000)])


def tutorial_data(data):
    """The task's data, training and held-out images alike, resized as the tutorial trains
    on them (28 px MNIST: to 32 px). Its samples are measured against these held-out images,
    in the tutorial's own domain as every other row is measured in its own: scored against
    the 28 px images instead, the resize alone costs real images an FID of about 46 (floor 2.4)."""
    import dataclasses

    from tutorial_dcgan import resize

    return dataclasses.replace(data, x=resize(data.x), holdout_x=resize(data.holdout_x))


#: the file a tutorial cell keeps its trained generator in, in its bench_runs folder
TUTORIAL_G = "tutorial_g.pt"
#: the file a step-counted tutorial cell checkpoints its loop in until it ends
TUTORIAL_CKPT = "tutorial_ckpt.pt"


def finished_runs(folder: Path) -> tuple[list[Path], list[str]]:
    """The seedN run folders in ``folder`` (one config's folder of the suite's runs) whose
    training ended, and one line for each other one: a ganforge run whose run.json says it is
    running (``lost`` when its process is gone: RunDir.live_status), interrupted or crashed
    (it goes on when the suite's command is run again), or a
    tutorial cell that has a loop checkpoint and no kept generator yet. The scripts that
    re-score finals (fid_spread.py, ema_batchnorm.py) would otherwise score a newest
    checkpoint as if it were a final while a seed is still training. A run that failed or was
    pruned has ended, and its cell counts, so it stays in."""
    from ganforge.train.loop import RunStatus
    from ganforge.train.rundir import LOST, RunDir

    going = {RunStatus.RUNNING, RunStatus.INTERRUPTED, RunStatus.CRASHED, LOST}
    done, skipped = [], []
    for run in sorted(folder.glob("seed[0-9]*")):
        status = RunDir(run).live_status()
        if (run / TUTORIAL_CKPT).exists() and not (run / TUTORIAL_G).exists():
            skipped.append(f"{run}: skipped: the tutorial cell has not finished (no {TUTORIAL_G} yet)")
        elif status.get("status") in going:
            skipped.append(f"{run}: skipped: {status['status']} at step {status.get('step', '?')}, not finished")
        else:
            done.append(run)
    return done, skipped


def score_finished(folders: list[Path], prog: str, score_one: Callable[[Path, int], dict],
                   keep: Callable[[Path, Path, dict], None]) -> bool:
    """A re-scoring script's loop: ``keep(folder, run, score_one(run, seed))`` for each
    finished seedN run of each folder (:func:`finished_runs`; each seed left out says so on
    stderr), as each is scored (a script prints its line there: scoring a run takes minutes).
    False, after one line on stderr, when a folder holds no finished run or a run cannot be
    read or scored (``ValueError``, ``OSError``): the script's exit 2."""
    for folder in folders:
        runs, skipped = finished_runs(folder)
        for line in skipped:
            print(f"{prog}: {line}", file=sys.stderr)
        if not runs:
            print(f"{prog}: {folder} holds no finished run folder", file=sys.stderr)
            return False
        for run in runs:
            seed = int(re.sub(r"\D", "", run.name))  # seedN, as the suite names them
            try:
                m = score_one(run, seed)
            except (ValueError, OSError) as e:
                print(f"{prog}: {e}", file=sys.stderr)
                return False
            keep(folder, run, m)
    return True


def keep_tutorial_g(g: torch.nn.Module, style: str, run_dir: Path) -> Path:
    """Save the tutorial's trained ``g`` (trained in ``style``) as ``run_dir``/:data:`TUTORIAL_G`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    first = g.net[-2]  # the last conv: its output channels are the image's
    torch.save({"state_dict": g.state_dict(), "channels": first.out_channels, "side": g.s0 * 4, "style": style},
               run_dir / TUTORIAL_G)
    return run_dir / TUTORIAL_G


def load_tutorial_g(run_dir: Path) -> torch.nn.Module:
    """The generator :func:`keep_tutorial_g` kept in ``run_dir``, on the CPU, in eval mode."""
    import tutorial_dcgan

    path = run_dir / TUTORIAL_G
    try:  # tensors and plain values only (torch.load's default): a kept generator runs no code
        kept = torch.load(path, map_location="cpu")
        g = tutorial_dcgan.Generator(kept["channels"], tutorial_dcgan.EPS[kept["style"]], kept["side"])
        g.load_state_dict(kept["state_dict"])
    except pickle.UnpicklingError:
        # torch's message is a page that advises turning the protection off; ours is one line
        raise ValueError(f"{path}: not a readable tutorial generator (damaged, or not a file this suite "
                         "kept: it holds more than tensors and plain values)") from None
    except (RuntimeError, EOFError, KeyError, TypeError) as e:
        # one line for the scripts that score it (ValueError: their exit 2)
        first = (f"no {e} entry" if isinstance(e, KeyError)
                 else str(e).splitlines()[0] if str(e) else type(e).__name__)
        raise ValueError(f"{path}: not a readable tutorial generator ({first})") from None
    return g.eval()


def tutorial_setup(task: str, seed: int, budget: str, mnist: Optional[Path]):
    """What a run in the tutorial's loop needs on ``task``: the task's data as the tutorial
    trains on it (the classic cells' config, :func:`tutorial_data`) and the curve's judge
    ``judge(G, step)`` (FID, precision, recall, classes of the task's evaluation samples
    against the held-out images in that domain). Shared by the tutorial cells and
    benchmarks/conv_gap.py, so both score alike."""
    from ganforge.data import load_dataset

    cfg = task_config(task, "classic", seed, budget, mnist, ROOT / "bench_runs" / "unused")
    data = tutorial_data(load_dataset(cfg.data))
    n_eval = TASKS[task]["n_eval"]

    def judge(g: torch.nn.Module, step: int) -> dict:
        was = g.training
        x = TutorialModel(g, data).generate_n(n_eval, cfg.eval.seed)
        g.train(was)
        m = evaluate_samples(x, data.holdout_x, data_name=data.name, extractor=task_extractor(task))
        return {k: m[k] for k in ("fid", "precision", "recall", "classes_hit") if k in m}

    return data, judge


def run_tutorial_cell(task: str, config: str, seed: int, a, floors: Floors) -> dict:
    """A tutorial cell: the plain loop of benchmarks/tutorial_dcgan.py (in the config's
    style) on the task's data (the same config as the classic cells), evaluated by the
    suite's measures."""
    import tutorial_dcgan

    data, judge = tutorial_setup(task, seed, a.budget, a.mnist)
    timed = is_timed(a.budget)
    steps = 10**9 if timed else steps_of(task, a.budget)
    every = 250 if timed else max(1, steps // CURVE_POINTS)

    def judged(g: torch.nn.Module, step: int) -> dict:
        # the loop writes no metrics log, so its curve is the only sign of life in a long cell
        m = judge(g, step)
        print(f"  {task}/{config}/seed{seed} step {step}: FID {m.get('fid', math.nan):.1f}", flush=True)
        return m

    run_dir = ROOT / "bench_runs" / "quality" / a.budget / task / config / f"seed{seed}"
    # a step-counted cell (2 hours a seed here) saves itself at each curve point and the same
    # command goes on from there after an interruption; a timed cell starts over, as ganforge's do
    ckpt = run_dir / TUTORIAL_CKPT
    if timed:
        ckpt.unlink(missing_ok=True)
    resumed_from = torch.load(ckpt, weights_only=False)["step"] if ckpt.exists() else None
    if resumed_from is not None:
        print(f"  {task}/{config}/seed{seed}: resuming at step {resumed_from} from {ckpt}", flush=True)
    t0 = time.time()
    g, points, done, clock = tutorial_dcgan.train(data.x, seed, steps, every, judged,
                                                  max_seconds=seconds_of(task, a.budget) if timed else None,
                                                  style=TUTORIALS[config], ckpt=None if timed else ckpt)
    model = TutorialModel(g, data)
    # the loop keeps no run folder; its G is kept where a ganforge run's would be, so that
    # benchmarks/fid_spread.py can draw its final measure again on other latents
    keep_tutorial_g(g, TUTORIALS[config], run_dir)
    fin = final_metrics(task, model, seed)
    fin.update(floors.get(task, model))
    pic = a.out / "quality" / picture_name(task, config, seed, a.budget)
    from ganforge.images import save_samples

    save_samples(model.generate_n(64, 5), pic)
    ckpt.unlink(missing_ok=True)  # done: a later rerun of this cell trains afresh
    return {"task": task, "config": config, "seed": seed, "budget": a.budget, "status": "finished",
            "reason": None, "steps": done, "seconds": round(clock, 1), "wall_seconds": round(time.time() - t0, 1),
            # set when the cell went on from a checkpoint: wall_seconds is then the last attempt's only
            **({"resumed_from": resumed_from} if resumed_from is not None else {}),
            "final": fin, "curve": points, "config_used": {"script": "benchmarks/tutorial_dcgan.py", "batch": 64, "style": TUTORIALS[config],
                                           "side": data.x.shape[-1]},
            "warnings": [], "machine": machine_name(), "date": time.strftime("%Y-%m-%d")}


def probe_fields(a) -> dict:
    """A time-budget cell's measure of the machine's speed, taken just before it trains
    (benchmarks/reference.py: machine_probe); nothing for a step-budget cell, whose
    result does not depend on the machine's speed and whose cells run side by side. Nothing
    either where the reference loop is not beside the project (a checkout without
    ../shared): the cell still runs and its row shows "-" in the probe column."""
    from reference import BENCH, machine_probe

    if not is_timed(a.budget) or a.mnist is None or not (BENCH / "naive_wgan_gp.py").is_file():
        return {}

    return {"reference_it_s": machine_probe(a.mnist)}


def run_cell(task: str, config: str, seed: int, a, floors: Floors) -> dict:
    make_task_data(task, a.mnist)
    probe = probe_fields(a)
    if config in TUTORIALS:
        return run_tutorial_cell(task, config, seed, a, floors) | probe
    run_dir = ROOT / "bench_runs" / "quality" / a.budget / task / config / f"seed{seed}"
    cfg = task_config(task, config, seed, a.budget, a.mnist, run_dir)
    res, trainer, fin, wall = train_and_measure(cfg, measure(task, seed, floors), resume=not is_timed(a.budget),
                                                say=lambda m: print(m, flush=True), prefix=f"  {task}/{config}/seed{seed} ")
    recs = api.RunDir(run_dir).read_metrics()
    keys = ("fid", "precision", "recall", "classes_hit", "w1", "modes_covered", "high_quality")
    from ganforge.images import save_samples

    pic = a.out / "quality" / picture_name(task, config, seed, a.budget)
    x = trainer.model.generate_n(64 if spec_kind(task) == "image" else 1000, 5)
    save_samples(x, pic, real=trainer.data.x[:2000] if x.dim() == 2 else None)
    return cell_record(res, fin, wall, task=task, config=config, seed=seed, budget=a.budget) | {
        "curve": curve(recs, keys, ("fid", "w1")), "config_used": cfg.to_dict(), "warnings": res.warnings,
        "machine": machine_name(), "date": time.strftime("%Y-%m-%d")} | probe


def task_extractor(task: str) -> str:
    """The features a task is measured in: its own where its images say nothing of their
    kind (a folder), else "auto" (chosen from the data)."""
    return TASKS[task].get("extractor", "auto")


def spec_kind(task: str) -> str:
    return TASKS[task]["kind"]


def plan(tasks: list[str], configs: list[str], seeds: list[int]) -> list[tuple[str, str, int]]:
    """The cells to run: seeds outermost (a partial run still gives every config one seed to
    compare); image presets on their own data only; "default" only where it is not another
    config by name (that config's cells count)."""
    out = []
    for seed in seeds:
        for task in tasks:
            for config in configs:
                if task not in ONLY_ON.get(config, (task,)):
                    print(f"skip {task}/{config}/seed{seed} ({config} runs only on {', '.join(ONLY_ON[config])})",
                          flush=True)
                    continue
                alias = same_as(task, config)
                if alias is not None:
                    print(f"skip {task}/{config}/seed{seed} (the same config as {alias}, whose cells count)", flush=True)
                    continue
                out.append((task, config, seed))
    return out


def budget_arg(text: str) -> str:
    if budget_parts(text):
        return text
    raise argparse.ArgumentTypeError(f"expected time, timeN (N training seconds, e.g. time120), steps or stepsN "
                                     f"(e.g. steps10000), got {text!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--configs", default="default,classic",
                    help=f"comma-separated names from: {', '.join(CONFIGS)} (dcgan-mnist runs on mnist only)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--budget", type=budget_arg, default="time",
                    help="time (each task's CPU budget), timeN (N training seconds), steps (each task's steps "
                         "budget) or stepsN (N generator steps)")
    ap.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--no-notes", dest="notes", action="store_false",
                    help="leave docs/results' notes off the page (a rerun kept in another folder)")
    ap.add_argument("--made-by", default="",
                    help="the script that made the cells, if not this one cell after cell (e.g. "
                         "benchmarks/gpu_image_cells.sh, whose cells share one GPU in parallel)")
    a = ap.parse_args()
    tasks, configs = a.tasks.split(","), a.configs.split(",")
    for t in tasks:
        if t not in TASKS:
            raise SystemExit(f"unknown task {t!r}; choose from {', '.join(TASKS)}")
    for c in configs:
        if c not in CONFIGS:
            raise SystemExit(f"unknown config {c!r}; choose from {', '.join(CONFIGS)}")
    seeds = [int(s) for s in a.seeds.split(",")]
    floors = Floors()
    if not a.report_only:
        study(a).run(plan(tasks, configs, seeds), lambda t, c, s: run_cell(t, c, s, a, floors),
                     after=lambda: write_page(a), say_skips=True)
    write_page(a)
    print(f"wrote {a.out / page_name(a.budget)}")


if __name__ == "__main__":
    main()
