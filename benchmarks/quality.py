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

Configs are named in CONFIGS: the default that `ganforge train` uses for the data now, the
previous default, and presets. A cell is (task, config, seed); each writes
docs/results/quality/cells/TASK/CONFIG/seedN.json when done, and a rerun skips finished
cells, so the suite can stop and continue. Run folders go to bench_runs/quality/ (not
committed). The page docs/results/quality.md (quality-BUDGET.md for a steps budget) is
rewritten from all finished cells after every cell.

--budget steps trains each task for a fixed number of generator steps instead (STEP_BUDGET:
what the default config reaches in the time budget on the 2-core CPU this page was made
on), for machines of other speeds; those cells are stored apart (cells-steps/).
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import torch

ROOT = Path(__file__).resolve().parents[1]
#: where the suite's committed pages and cells live (the default --out)
RESULTS = ROOT / "docs" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality_notes import NOTES, STACKED_NOTES, STEP_NOTES  # noqa: E402
from study import (Study, cell_record, curve, machine_name, median_range, resolved,  # noqa: E402
                   train_and_measure)
from ganforge import api  # noqa: E402
from ganforge.config import Config, DataConfig, deep_merge  # noqa: E402
from ganforge.data.toy import make_toy  # noqa: E402
from ganforge.metrics.evaluate import evaluate_samples  # noqa: E402
from ganforge.metrics.toy import exact_w1, mode_metrics  # noqa: E402
from ganforge.resolve import recipe_for  # noqa: E402

TASKS: dict[str, dict[str, Any]] = {
    "ring8": {"data": {"name": "toy", "toy": "ring8"}, "seconds": 120, "steps": 6000, "kind": "toy"},
    "grid25": {"data": {"name": "toy", "toy": "grid25"}, "seconds": 120, "steps": 6000, "kind": "toy"},
    "swissroll": {"data": {"name": "toy", "toy": "swissroll"}, "seconds": 120, "steps": 6000, "kind": "toy"},
    "digits": {"data": {"name": "digits", "holdout": 297}, "seconds": 180, "steps": 6000, "kind": "image",
               "n_eval": 297},
    "mnist": {"data": {"name": "mnist", "holdout": 2000}, "seconds": 600, "steps": 6000, "kind": "image",
              "n_eval": 2000},
    # 26,000 stacked images (24,000 to train on): the final measure counts the modes of
    # 26,000 samples, as the literature does; FID and the curve use 2,000
    "stackedmnist": {"data": {"name": "stackedmnist", "holdout": 2000, "n_samples": 26000}, "seconds": 600,
                     "steps": 6000, "kind": "image", "n_eval": 2000, "n_final": 26000},
    # the 200 grey 25x25 faces scikit-image ships, at 32 px (160 to train on, 40 held out)
    "lfw": {"data": {"name": "lfw", "holdout": 40, "size": 32}, "seconds": 180, "steps": 3000, "kind": "image",
            "n_eval": 40},
    # the folder path end to end: the 10,000 MNIST images written by the suite as 32 px grey
    # PNGs (bench_runs/quality/folder32/, made once from --mnist) and read back by imagefolder
    "folder32": {"data": {"name": "imagefolder", "holdout": 2000, "size": 32, "channels": 1}, "seconds": 600,
                 "steps": 6000, "kind": "image", "n_eval": 2000},
    # a colour folder: the stackedmnist task's 26,000 images (data seed 0) written once as
    # 32 px RGB PNGs (bench_runs/quality/folder32c/) and read back by imagefolder, measured
    # as StackedMNIST is (the stacked classifier reads each channel, resized to 28 px)
    "folder32c": {"data": {"name": "imagefolder", "holdout": 2000, "size": 32, "channels": 3}, "seconds": 600,
                  "steps": 6000, "kind": "image", "n_eval": 2000, "n_final": 26000, "extractor": "stacked-lenet"},
    # the same two at 64 px, the loader's default side (a folder given no --size): where an
    # image folder's recipe is chosen for 64 px; the classifier reads them antialiased to 28 px
    "folder64": {"data": {"name": "imagefolder", "holdout": 2000, "size": 64, "channels": 1}, "seconds": 600,
                 "steps": 6000, "kind": "image", "n_eval": 2000},
    "folder64c": {"data": {"name": "imagefolder", "holdout": 2000, "size": 64, "channels": 3}, "seconds": 600,
                  "steps": 6000, "kind": "image", "n_eval": 2000, "n_final": 26000, "extractor": "stacked-lenet"},
}
#: tasks whose data is made from the MNIST files (--mnist)
MNIST_FILES = ("mnist", "stackedmnist", "folder32", "folder32c", "folder64", "folder64c")
#: the tasks' PNG folders, made by the suite from the MNIST files: task -> what it holds
PNG_TASKS = {"folder32": "mnist", "folder32c": "stackedmnist", "folder64": "mnist", "folder64c": "stackedmnist"}
#: tasks measured by the 1,000 modes of StackedMNIST
MODE_TASKS = ("stackedmnist", "folder32c", "folder64c")
#: tasks on images (where the image configs run)
IMAGE_TASKS = ("mnist", "stackedmnist", "lfw", "folder32", "folder32c", "folder64", "folder64c")
N_TOY = 2000
CURVE_POINTS = 12  #: evaluations during a run (eval.every_seconds = budget / this)

#: config name -> (preset or None, config dict merged on top). "default" is what `ganforge
#: train` uses for the task's data when the suite runs (its DATA_RECIPES entry, if any);
#: "classic" is the dataclass defaults, the WGAN-GP setting that was every data's default
#: before the recipes (an MLP with n_critic 5, lambda 10, Adam 1e-4 betas 0.5/0.9)
CONFIGS: dict[str, tuple[Optional[str], dict]] = {
    "default": ("<data recipe>", {}),
    "classic": (None, {}),
    "dcgan-mnist": ("dcgan-mnist", {}),
    "r3gan-digits": ("r3gan-digits", {}),
    "r3gan-mnist": ("r3gan-mnist", {}),
    # the best of the toy-recipe tune study (12 trials on grid25 at seed 100, 2 minutes each;
    # docs/results/tune/toy-recipe.txt), rounded: measured here on the suite's seeds
    "r3gan-toy-tuned": ("r3gan-toy", {"optim": {"g": {"lr": 7.4e-4}, "d": {"lr": 7.4e-4}},
                                      "penalty": {"weight": 0.66}, "train": {"ema_halflife_kimg": 8.3}}),
    # the recipe on the classic MLP networks (the preset is r3gan-mnist with the model swapped):
    # on a CPU the MLP runs several times the DCGAN's steps per second, which is what won MNIST
    # for the classic setting
    "r3gan-mlp-mnist": ("r3gan-mlp-mnist", {}),
    # the same with both learning rates decaying (cosine) to 0 at the end of the time budget:
    # r3gan-mlp-mnist's FID stopped improving at about 22 after 5 of its 10 minutes
    "r3gan-mlp-mnist-decay": ("r3gan-mlp-mnist", {"optim": {"g": {"schedule": "cosine"},
                                                            "d": {"schedule": "cosine"}}}),
    # the same networks at batch 256 with a 10x stronger R1+R2 (1 decaying to 0.1) and Adam
    # 5e-4: MNIST's default and grey 32 px folders' from 2026-12-01 to 2026-12-03 (how it was
    # found: NOTES)
    "r3gan-mlp-b256": ("r3gan-mlp-b256", {}),
    # the same with a 10x longer EMA half-life (100 kimg, about 390 steps at batch 256; the
    # ramp-up still caps it at 5% of the images seen): the candidate of 2026-12-01's
    # exploration (NOTES), where the FID of the 10 kimg EMA rose and fell by 2-3 between evaluations
    "r3gan-mlp-b256-ema100": ("r3gan-mlp-b256", {"train": {"ema_halflife_kimg": 100}}),
    # the default with StackedMNIST's wide widths (G 512-1024-2048, D 1024-512; about twice the
    # cost of a step on a CPU): the default levels off at about 7-10 from 4,000 steps on, a
    # longer EMA lowered that level by about 0.6 and LR decay raised it (NOTES), so capacity was
    # the next suspect
    "r3gan-mlp-b256-wide": ("r3gan-mlp-b256", {"model": {"g_hidden": [512, 1024, 2048], "d_hidden": [1024, 512]}}),
    # the default with twice the batch (512; twice the cost of a step): batch 128 -> 256 took
    # the 5,000-step FID from 29.6 to 23.2 in the preset's exploration (NOTES)
    "r3gan-mlp-b512": ("r3gan-mlp-b256", {"train": {"batch_size": 512}}),
    # the default with R1+R2 held at gamma 1 instead of decaying to 0.1 by step 5,000: the
    # default's FID levels off, and the wide networks' rises, from about when gamma nears 0.1.
    # MNIST's default since 2026-12-03 (NOTES); its first cells ran as r3gan-mlp-b256 with
    # penalty.weight_min=1 on top (a cosine from 1 to 1: the same weight at every step)
    "r3gan-mlp-b256-g1": ("r3gan-mlp-b256-g1", {}),
    # the same as its cells measured it before 2026-12-03 evening: the EMA generator with the
    # live G's batch-norm statistics copied (train.ema_batchnorm=copy; the default since is to
    # measure its own). Its 10,000-step cells are those first cells (kept under this name
    # when the default's were rerun); they ran as a cosine of gamma from 1 to 1 (NOTES)
    "r3gan-mlp-b256-g1-bncopy": ("r3gan-mlp-b256-g1", {"train": {"ema_batchnorm": "copy"}}),
    # the same with the 100 kimg EMA half-life (about 390 steps at batch 256): g1 reached 0.54x
    # the tutorial at 10,000 steps (target 0.5x) with its curve still moving by 1-3 between
    # evaluations, and the longer EMA lowered the previous default at 10,000 steps on every seed
    "r3gan-mlp-b256-g1-ema100": ("r3gan-mlp-b256-g1", {"train": {"ema_halflife_kimg": 100}}),
    # R1+R2 held at gamma 2 (2026-12-03): raising gamma from a decay to 0.1 to a constant 1
    # removed most of the default's levelling off at 10,000 steps; whether more of it helps
    # further, alone and with the 100 kimg EMA. Lower than g1 on one draw per seed at every
    # budget, level with it on 8 draws (STEP_NOTES, NOTES), so not adopted
    "r3gan-mlp-b256-g2": ("r3gan-mlp-b256-g1", {"penalty": {"weight": 2.0}}),
    "r3gan-mlp-b256-g2-ema100": ("r3gan-mlp-b256-g1", {"penalty": {"weight": 2.0},
                                                        "train": {"ema_halflife_kimg": 100}}),
    # StackedMNIST's two candidates (2026-12-01): at Adam 5e-4 MNIST's recipe lost its critic
    # there within a few hundred steps (D(real) = D(fake), loss log 2) and G drew colour noise;
    # single-seed explorations at 2,000 steps put the edge near 3e-4 (STACKED_NOTES).
    # r3gan-mlp-b256 at 2e-4, StackedMNIST's recipe from then until the warm-up below
    # (colour folders' still):
    "r3gan-mlp-stacked": ("r3gan-mlp-stacked", {}),
    # G at 2e-4 and D at 4e-4 (one seed; the first won on it)
    "r3gan-mlp-b256-g2d4": ("r3gan-mlp-b256", {"optim": {"g": {"lr": 2e-4}, "d": {"lr": 4e-4}}}),
    # MNIST's 5e-4 reached after a linear warm-up over the first 1,000 generator steps (at a
    # constant 5e-4 the critic was lost within 30 steps, before D had learnt anything):
    # StackedMNIST's recipe since 2026-12-01 (its first cells ran as r3gan-mlp-stacked with
    # these rates and warm-ups on top, before the preset existed: the same config)
    "r3gan-mlp-stacked-warm": ("r3gan-mlp-stacked-warm", {}),
    # the same as its cells measured it before 2026-12-03 evening (the EMA generator with the
    # live G's batch-norm statistics copied); its cells at 5,000 and 10,000 steps and 10 CPU
    # minutes are the recipe's first ones (kept under this name when the default's were rerun)
    "r3gan-mlp-stacked-warm-bncopy": ("r3gan-mlp-stacked-warm", {"train": {"ema_batchnorm": "copy"}}),
    # the same with a 100 kimg EMA half-life (better on MNIST at 10,000 steps on every seed)
    "r3gan-mlp-stacked-warm-ema100": ("r3gan-mlp-stacked-warm", {"train": {"ema_halflife_kimg": 100}}),
    # the warm-up with a wider critic (512-256 -> 1024-512) or a wider generator
    # (256-512-1024 -> 512-1024-2048): at 10,000 steps 30% of the warm-up's samples were read
    # by the classifier with under 90% confidence per channel (real: 6%), and the digits it
    # made too rarely (0 and 8) carried most of the KL above the real data's (NOTES)
    "r3gan-mlp-stacked-warm-d1024": ("r3gan-mlp-stacked-warm", {"model": {"d_hidden": [1024, 512]}}),
    "r3gan-mlp-stacked-warm-g2048": ("r3gan-mlp-stacked-warm", {"model": {"g_hidden": [512, 1024, 2048]}}),
    # both wider (each alone lowered the KL at 5,000 steps, seed 0): the r3gan-mlp-stacked-warm-wide
    # preset (its first cells ran as these two widths on r3gan-mlp-stacked-warm: the same config).
    # Below the KL target at 10,000 steps, far above it in 10 CPU minutes (a third of the steps)
    "r3gan-mlp-stacked-warm-wide": ("r3gan-mlp-stacked-warm-wide", {}),
    # StackedMNIST's recipe with R1+R2 held at gamma 1 (no decay to 0.1): on MNIST that removed
    # most of the default's levelling off at 10,000 steps (r3gan-mlp-b256-g1), and StackedMNIST's
    # default missed its KL target there by a little (0.0523 against 0.05)
    "r3gan-mlp-stacked-warm-g1": ("r3gan-mlp-stacked-warm", {"penalty": {"weight_min": 1.0}}),
    # StackedMNIST's recipe with a minibatch-stddev feature before D's output layer (groups of
    # 4, StyleGAN's and R3GAN's): the warm-up's KL above the target was uneven digit
    # frequencies within each channel, a kind of unevenness a D that judges one image at a
    # time cannot see and one that sees a group's spread can. At 10,000 steps higher KL and
    # FID on every seed (STACKED_NOTES), so not adopted
    "r3gan-mlp-stacked-warm-mbstd4": ("r3gan-mlp-stacked-warm", {"model": {"d_mbstd": 4}}),
    # StackedMNIST's recipe with a 128-d latent instead of 64 (the same cost a step: only G's
    # first layer grows), for the digits it makes too rarely. Under the KL target at 10,000 steps
    # by a small margin, not better in 10 CPU minutes (STACKED_NOTES), so not the default
    "r3gan-mlp-stacked-warm-z128": ("r3gan-mlp-stacked-warm", {"model": {"z_dim": 128}}),
    # StackedMNIST's recipe with both learning rates decaying (cosine, after the warm-up) to 0
    # at the end of the run: 30% of its samples were read with under 90% confidence per channel,
    # and settling G and D at the end may sharpen them (the same cost a step). Worse at 10,000
    # steps, seed 0: its FID stalled from about 5,000 steps on (STACKED_NOTES)
    "r3gan-mlp-stacked-warm-cos": ("r3gan-mlp-stacked-warm", {"optim": {"g": {"schedule": "cosine"},
                                                                         "d": {"schedule": "cosine"}}}),
    # the image issue's baseline: a plain tutorial DCGAN loop without ganforge
    # (benchmarks/tutorial_dcgan.py; its cells are trained by that loop, not by api.train)
    "tutorial-dcgan": (None, {}),
    # the same design as the most copied copy of it trains it (PyTorch-GAN's dcgan.py: batch
    # norm eps 0.8, PyTorch's Linear init, G first; benchmarks/tutorial_dcgan.py says why)
    "tutorial-dcgan-pg": (None, {}),
    # the modern recipe on the new convolutional families (candidates, not yet measured)
    "r3gan-upconv": ("r3gan-mnist", {"model": {"name": "upconv"}}),
    "r3gan-resnet": ("r3gan-mnist", {"model": {"name": "resnet", "width": 32}}),
    # the tutorial's design in ganforge: upconv networks (no checkerboard), the
    # non-saturating loss and Adam 2e-4 betas 0.5/0.999 of dcgan-mnist, D dropout 0.25 as
    # the tutorial's, and an EMA of G's weights (the tutorial has none)
    "dcgan-upconv": ("dcgan-mnist", {"model": {"name": "upconv", "d_dropout": 0.25},
                                     "train": {"ema_halflife_kimg": 10}}),
    # the same with batch norm in D, as the tutorial's D has (dcgan-upconv ended at 1.7x the
    # tutorial's FID at 5,000 steps once the tutorial was measured in its own domain)
    "dcgan-upconv-bn": ("dcgan-mnist", {"model": {"name": "upconv", "d_dropout": 0.25, "d_norm": "batch"},
                                        "train": {"ema_halflife_kimg": 10}}),
    # the same with D's batch norm where the tutorial puts it (after the activation and
    # dropout: model.d_norm=batch-after) and the tutorial's N(0, 0.02) init, trained at the
    # tutorial's 32 px: benchmarks/conv_gap.py found the tutorial's lead in its D (the tutorial's
    # G with ganforge's D lost; the tutorial's D with ganforge's G did not; without its batch
    # norms the tutorial's D lost too). The dcgan-upconv-mnist preset since 2026-12-02 (its
    # first cell ran as dcgan-mnist with these overrides on top: the same config)
    "dcgan-upconv-bn-after": ("dcgan-upconv-mnist", {}),
}
#: configs that only make sense on some tasks (image presets on their own data)
ONLY_ON = {"dcgan-mnist": ("mnist",), "r3gan-digits": ("digits",), "r3gan-mnist": ("mnist", "stackedmnist"),
           "r3gan-mlp-mnist": ("mnist",), "r3gan-mlp-mnist-decay": ("mnist",), "r3gan-mlp-b256": IMAGE_TASKS,
           "r3gan-mlp-b256-ema100": ("mnist", "folder32"),
           "r3gan-mlp-b256-wide": ("mnist",),
           "r3gan-mlp-b512": ("mnist",), "r3gan-mlp-b256-g1": ("mnist", "folder32"),
           "r3gan-mlp-b256-g1-bncopy": ("mnist", "folder32"),
           "r3gan-mlp-b256-g1-ema100": ("mnist",), "r3gan-mlp-b256-g2": ("mnist",),
           "r3gan-mlp-b256-g2-ema100": ("mnist",),
           "r3gan-mlp-stacked": MODE_TASKS,
           "r3gan-mlp-b256-g2d4": ("stackedmnist",), "r3gan-mlp-stacked-warm": MODE_TASKS + ("folder64",),
           "r3gan-mlp-stacked-warm-ema100": ("stackedmnist",), "r3gan-mlp-stacked-warm-bncopy": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-d1024": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-g2048": ("stackedmnist",), "r3gan-mlp-stacked-warm-wide": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-g1": ("stackedmnist",), "r3gan-mlp-stacked-warm-mbstd4": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-z128": ("stackedmnist",), "r3gan-mlp-stacked-warm-cos": ("stackedmnist",),
           "r3gan-toy-tuned": ("ring8", "grid25", "swissroll"), "tutorial-dcgan": IMAGE_TASKS,
           "tutorial-dcgan-pg": IMAGE_TASKS,
           "r3gan-upconv": IMAGE_TASKS, "r3gan-resnet": IMAGE_TASKS,
           "dcgan-upconv": IMAGE_TASKS, "dcgan-upconv-bn": IMAGE_TASKS, "dcgan-upconv-bn-after": ("mnist",)}


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
    secs = spec["seconds"]
    train = {"seed": seed, "tensorboard": False, "sample_every": 10**9, "ckpt_every": 10**9}
    if budget == "time":
        train.update(iters=10**9, max_seconds=float(secs))
        ev = {"every_seconds": secs / CURVE_POINTS, "every": 0}
    else:
        steps = steps_of(task, budget)
        train.update(iters=steps, max_seconds=None)
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
    marker file says it is complete, so a folder half-written by a stopped suite is made again."""
    import torch.nn.functional as F
    from PIL import Image

    from ganforge.config import DataConfig
    from ganforge.data import load_dataset

    folder = png_folder(under, task)
    done = folder / "COMPLETE"
    if done.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    kind = PNG_TASKS[task]
    data = {"name": kind, "dir": str(mnist.resolve())}
    if kind == "stackedmnist":  # the stackedmnist task's images, holdout included
        data["n_samples"] = TASKS["stackedmnist"]["data"]["n_samples"]
    x = load_dataset(DataConfig(**data)).x
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    pix = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for i, a in enumerate(pix):
        Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a).save(folder / f"{i:05d}.png")  # uint8: L or RGB
    done.write_text(f"{len(pix)} images\n")
    return folder


def steps_of(task: str, budget: str) -> int:
    """The generator steps of a steps budget: ``steps`` (the task's), or ``stepsN``."""
    return int(budget[5:]) if budget.startswith("steps") and budget[5:] else TASKS[task]["steps"]


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


#: the tutorial baselines: config -> the style benchmarks/tutorial_dcgan.py trains in
TUTORIALS = {"tutorial-dcgan": "plain", "tutorial-dcgan-pg": "pytorch-gan"}
#: the file a tutorial cell keeps its trained generator in, in its bench_runs folder
TUTORIAL_G = "tutorial_g.pt"
#: the file a step-counted tutorial cell checkpoints its loop in until it ends
TUTORIAL_CKPT = "tutorial_ckpt.pt"


def strongest_tutorial(by: dict, task: str) -> Optional[list[dict]]:
    """The cells of the tutorial baseline with the lowest median FID on ``task`` (the ratio
    targets compare with the strongest tutorial measured), or None if none has run."""
    runs = [by[(task, name)] for name in TUTORIALS if by.get((task, name))]
    runs = [cs for cs in runs if any("fid" in c["final"] for c in cs)]
    return min(runs, key=lambda cs: statistics.median(c["final"]["fid"] for c in cs if "fid" in c["final"]),
               default=None)


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

    kept = torch.load(run_dir / TUTORIAL_G, map_location="cpu")
    g = tutorial_dcgan.Generator(kept["channels"], tutorial_dcgan.EPS[kept["style"]], kept["side"])
    g.load_state_dict(kept["state_dict"])
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
    spec = TASKS[task]
    steps = steps_of(task, a.budget) if a.budget != "time" else 10**9
    every = max(1, steps // CURVE_POINTS) if a.budget != "time" else 250

    def judged(g: torch.nn.Module, step: int) -> dict:
        # the loop writes no metrics log, so its curve is the only sign of life in a long cell
        m = judge(g, step)
        print(f"  {task}/{config}/seed{seed} step {step}: FID {m.get('fid', math.nan):.1f}", flush=True)
        return m

    run_dir = ROOT / "bench_runs" / "quality" / a.budget / task / config / f"seed{seed}"
    # a step-counted cell (2 hours a seed here) saves itself at each curve point and the same
    # command goes on from there after an interruption; a timed cell starts over, as ganforge's do
    ckpt = run_dir / TUTORIAL_CKPT
    if a.budget == "time":
        ckpt.unlink(missing_ok=True)
    resumed_from = torch.load(ckpt, weights_only=False)["step"] if ckpt.exists() else None
    if resumed_from is not None:
        print(f"  {task}/{config}/seed{seed}: resuming at step {resumed_from} from {ckpt}", flush=True)
    t0 = time.time()
    g, points, done, clock = tutorial_dcgan.train(data.x, seed, steps, every, judged,
                                                  max_seconds=spec["seconds"] if a.budget == "time" else None,
                                                  style=TUTORIALS[config], ckpt=None if a.budget == "time" else ckpt)
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

    if a.budget != "time" or a.mnist is None or not (BENCH / "naive_wgan_gp.py").is_file():
        return {}

    return {"reference_it_s": machine_probe(a.mnist)}


def run_cell(task: str, config: str, seed: int, a, floors: Floors) -> dict:
    make_task_data(task, a.mnist)
    probe = probe_fields(a)
    if config in TUTORIALS:
        return run_tutorial_cell(task, config, seed, a, floors) | probe
    run_dir = ROOT / "bench_runs" / "quality" / a.budget / task / config / f"seed{seed}"
    cfg = task_config(task, config, seed, a.budget, a.mnist, run_dir)
    res, trainer, fin, wall = train_and_measure(cfg, measure(task, seed, floors))
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


def study(a) -> Study:
    return Study("quality", a.out, a.budget)


def budget_label(budget: str, task: str) -> str:
    return f"{TASKS[task]['seconds'] // 60} min" if budget == "time" else f"{steps_of(task, budget)} generator steps"


# ---------------------------------------------------------------------- the page
TARGETS = {
    "ring8": "8/8 modes, high-quality share >= 0.9",
    "grid25": "25/25 modes, high-quality share >= 0.9",
    "swissroll": "W1 <= 1.5x the real-vs-real W1",
    "digits": "FID <= 1.5x the real-vs-real floor",
    "mnist": "FID <= 10 (median of 3 seeds)",
    "stackedmnist": "1,000 of 1,000 modes and KL <= 0.05 (median of 3 seeds)",
    "lfw": "none set (a small face set; FID in the digit classifier's features)",
    "folder32": "FID <= 10 (median of 3 seeds), as MNIST",
    "folder32c": "1,000 of 1,000 modes and KL <= 0.05 (median of 3 seeds), as StackedMNIST",
    "folder64": "FID <= 10 (median of 3 seeds), as MNIST",
    "folder64c": "1,000 of 1,000 modes and KL <= 0.05 (median of 3 seeds), as StackedMNIST",
}


#: the image issue's step-budget targets on MNIST: FID at most this, and at most half the
#: tutorial baseline's (medians of 3 seeds)
STEP_TARGETS = {"steps5000": 15.0, "steps10000": 8.0}
#: tasks judged by MNIST's FID targets
MNIST_FID_TASKS = ("mnist", "folder32", "folder64")


def step_target(task: str, budget: str) -> Optional[float]:
    """The step-budget FID target of a task, if the issue set one."""
    return STEP_TARGETS.get(budget) if task in MNIST_FID_TASKS else None


def has_targets(budget: str) -> bool:
    """Targets exist for the time budget, the tasks' own steps budget and STEP_TARGETS."""
    return budget in ("time", "steps") or budget in STEP_TARGETS


def target_text(task: str, budget: str) -> str:
    limit = step_target(task, budget)
    if limit is not None:
        return f"FID <= {limit:g} and <= 0.5x the strongest tutorial's (median of 3 seeds)"
    return TARGETS[task] if has_targets(budget) else "none set at this budget"


def target_met(task: str, cells: list[dict], budget: str = "time",
               tutorial: Optional[list[dict]] = None) -> Optional[bool]:
    """Whether ``cells`` (one config's seeds) meet the task's target at ``budget``; the
    step-budget targets also compare with the tutorial's cells (undecided without them)."""
    fins = [c["final"] for c in cells]
    if not has_targets(budget):
        return None
    if not fins or any(f.get("diverged") for f in fins):
        return False if fins else None
    limit = step_target(task, budget)
    if limit is not None:
        fid = statistics.median(f["fid"] for f in fins)
        tut = [c["final"]["fid"] for c in tutorial or [] if "fid" in c["final"]]
        if fid > limit or (tut and fid > 0.5 * statistics.median(tut)):
            return False
        return True if tut else None
    if task in ("ring8", "grid25"):
        total = 8 if task == "ring8" else 25
        return all(f["modes_covered"] == total and f["high_quality"] >= 0.9 for f in fins)
    if task == "swissroll":
        return all(f["w1"] <= 1.5 * f["w1_floor"] for f in fins)
    if task == "digits":
        return all(f["fid"] <= 1.5 * f["fid_floor"] for f in fins)
    if task in MNIST_FID_TASKS:
        return statistics.median(f["fid"] for f in fins) <= 10
    if task in MODE_TASKS:
        return (statistics.median(f["modes_covered"] for f in fins) == 1000
                and statistics.median(f["mode_kl"] for f in fins) <= 0.05)
    return None


fmt_stat = median_range


def rel(p: Path) -> str:
    try:
        return p.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return p.as_posix()


def command_flags(a) -> str:
    """The flags that made this page (the budget and the output folder; tasks, configs and
    seeds select cells, and the page shows every finished cell)."""
    flags = ["--mnist ../shared/data/mnist"]
    if a.budget != "time":
        flags.append(f"--budget {a.budget}")
    if a.out.resolve() != RESULTS.resolve():
        flags.append(f"--out {rel(a.out)}")
    if not getattr(a, "notes", True):
        flags.append("--no-notes")
    return " ".join(flags)


def write_page(a) -> None:
    base = study(a).folder
    cells = study(a).load()
    if not cells:
        return
    by: dict[tuple[str, str], list[dict]] = {}
    for c in cells:
        by.setdefault((c["task"], c["config"]), []).append(c)
    lines = ["# Quality at convergence: the suite", "",
             f"Command: `python benchmarks/quality.py {command_flags(a)}`; "
             f"cells run one by one and are kept in `{rel(base)}/`. Machine: "
             f"{cells[0]['machine']}; cell dates {min(c['date'] for c in cells)} to {max(c['date'] for c in cells)}. "
             f"Total training time of the cells here: {sum(c['seconds'] for c in cells) / 60:.0f} min "
             f"(wall {sum(c['wall_seconds'] for c in cells) / 60:.0f} min).", "",
             "Values: median [min-max] over seeds. Floors are real against real at the same sample sizes.", ""]
    # a time cell's steps depend on the machine's speed that day: its probe, beside them
    # (a column once any cell has one; cells from before the probe show "-")
    probe_head = "machine probe (it/s) | " if any("reference_it_s" in c for c in cells) else ""
    for task in TASKS:
        rows = [(cfg, cs) for (t, cfg), cs in sorted(by.items()) if t == task]
        if not rows:
            continue
        spec = TASKS[task]
        budget = budget_label(a.budget, task)
        lines += [f"## {task} ({budget}; target: {target_text(task, a.budget)})", ""]
        if spec["kind"] == "toy":
            head = "| config | seeds | modes covered | high-quality share | W1 | W1 floor | steps | {probe_head}target |"
        elif task in MODE_TASKS:
            head = "| config | seeds | modes (of 1,000) | mode KL | FID | FID floor | precision | recall | steps | {probe_head}target |"
        else:
            head = "| config | seeds | FID | FID floor | precision | recall | classes | steps | {probe_head}target |"
        head = head.format(probe_head=probe_head)
        lines += [head, "|" + "---|" * (head.count("|") - 1)]
        for cfg, cs in rows:
            f = [c["final"] for c in cs if not c["final"].get("diverged")]
            steps = fmt_stat([c["steps"] for c in cs], 4)
            probe = (fmt_stat([c["reference_it_s"] for c in cs if "reference_it_s" in c]) + " | "
                     if probe_head else "")
            met = target_met(task, cs, a.budget, strongest_tutorial(by, task))
            mark = "met" if met else ("not met" if met is False else "-")
            if met is not None and len(cs) < 3:  # the targets are on the median of 3 seeds
                mark += f" on {len(cs)} seed{'s' if len(cs) > 1 else ''}, not judged"
            seeds = ",".join(str(c["seed"]) for c in sorted(cs, key=lambda c: c["seed"]))
            if spec["kind"] == "toy":
                lines.append(f"| {cfg} | {seeds} | {fmt_stat([x['modes_covered'] for x in f if 'modes_covered' in x])} | "
                             f"{fmt_stat([x['high_quality'] for x in f if 'high_quality' in x])} | "
                             f"{fmt_stat([x['w1'] for x in f])} | {fmt_stat([x.get('w1_floor', math.nan) for x in f if 'w1_floor' in x])} | "
                             f"{steps} | {probe}{mark} |")
            elif task in MODE_TASKS:
                lines.append(f"| {cfg} | {seeds} | {fmt_stat([x['modes_covered'] for x in f], 4)} | "
                             f"{fmt_stat([x['mode_kl'] for x in f])} | {fmt_stat([x['fid'] for x in f])} | "
                             f"{fmt_stat([x['fid_floor'] for x in f])} | {fmt_stat([x['precision'] for x in f])} | "
                             f"{fmt_stat([x['recall'] for x in f])} | {steps} | {probe}{mark} |")
            else:
                lines.append(f"| {cfg} | {seeds} | {fmt_stat([x['fid'] for x in f])} | "
                             f"{fmt_stat([x['fid_floor'] for x in f])} | {fmt_stat([x['precision'] for x in f])} | "
                             f"{fmt_stat([x['recall'] for x in f])} | {fmt_stat([x.get('classes_hit', math.nan) for x in f])} | "
                             f"{steps} | {probe}{mark} |")
        lines.append("")
        png = plot_task(a, task, rows)
        if png:
            lines += [f"![{task}: quality against seconds and steps]({png.relative_to(a.out).as_posix()})", ""]
        pics = [f"![{cfg}](quality/{picture_name(task, cfg, 0, a.budget)})" for cfg, _ in rows
                if (a.out / "quality" / picture_name(task, cfg, 0, a.budget)).exists()]
        if pics:
            lines += ["Samples (seed 0, end of the budget): " + " ".join(f"{cfg}" for cfg, _ in rows), "", " ".join(pics), ""]
    if getattr(a, "notes", True):
        lines += NOTES if a.budget == "time" else STEP_NOTES
        if set(MODE_TASKS) & {t for t, _ in by}:
            lines += STACKED_NOTES
    else:  # a rerun kept elsewhere: the notes speak of docs/results' cells and link pages beside them
        lines += [f"How the configs were chosen: docs/results/{page_name(a.budget)} in the project.", ""]
    (a.out / page_name(a.budget)).write_text("\n".join(lines))


def picture_name(task: str, what: str, seed: Optional[int], budget: str) -> str:
    """A picture of the page: mnist_r3gan-mlp-mnist_seed0.png (time budget),
    mnist_r3gan-mlp-mnist_seed0_steps5000.png, mnist_curves_steps5000.png (steps budgets)."""
    stem = f"{task}_{what}" + (f"_seed{seed}" if seed is not None else "")
    return f"{stem}.png" if budget == "time" else f"{stem}_{budget}.png"


def page_name(budget: str) -> str:
    """The page of a budget: quality.md for the time budget, quality-steps5000.md for
    steps5000 (so that a steps run never overwrites the time budget's page)."""
    return "quality.md" if budget == "time" else f"quality-{budget}.md"


def plot_task(a, task: str, rows: list[tuple[str, list[dict]]]) -> Optional[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # for the mode tasks the share of high-quality samples: the count of modes saturates early
    key = "fid" if TASKS[task]["kind"] == "image" else ("w1" if task == "swissroll" else "high_quality")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=100)
    for i, (cfg, cs) in enumerate(rows):
        colour = f"C{i}"
        for j, c in enumerate(cs):
            pts = [p for p in c["curve"] if key in p]
            if not pts:
                continue
            for ax, x in zip(axes, ("time", "step")):
                ax.plot([p[x] for p in pts], [p[key] for p in pts], color=colour, alpha=0.7,
                        label=cfg if j == 0 else None)
    for ax, x in zip(axes, ("training seconds", "generator steps")):
        ax.set_xlabel(x)
        ax.set_ylabel(key)
        if key == "fid":
            ax.set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{task}: {key} during training (one line per seed)", fontsize=9)
    fig.tight_layout()
    out = a.out / "quality" / picture_name(task, "curves", None, a.budget)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


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
    if text in ("time", "steps") or (text.startswith("steps") and text[5:].isdigit() and int(text[5:]) > 0):
        return text
    raise argparse.ArgumentTypeError(f"expected time, steps or stepsN (e.g. steps10000), got {text!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--configs", default="default,classic",
                    help=f"comma-separated names from: {', '.join(CONFIGS)} (dcgan-mnist runs on mnist only)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--budget", type=budget_arg, default="time",
                    help="time (each task's CPU budget), steps (each task's steps budget) or stepsN (N generator steps)")
    ap.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--no-notes", dest="notes", action="store_false",
                    help="leave docs/results' notes off the page (a rerun kept in another folder)")
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
