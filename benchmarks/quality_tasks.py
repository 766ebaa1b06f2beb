"""The quality suite's tables: its tasks (data, budgets, measures), the configs it compares,
where each config runs, and the targets each task is judged by (benchmarks/quality.py runs the
cells; benchmarks/quality_page.py writes the page from them)."""
from __future__ import annotations

import statistics
from typing import Any, Optional

from ganforge.config import deep_merge, load_preset

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
#: the MNIST default's adaptive augmentation (translation + cutout, ADA's target 0.6), read
#: from its preset so the conv configs that borrow it follow the default
_MLP_AUGMENT: dict[str, Any] = load_preset("r3gan-mlp-b256-g1")["augment"]
#: the residual preset's networks at width 16 for a 2-core CPU, in fp32 as their cells ran (the
#: preset's precision auto would take bf16 on a GPU or a bf16 CPU); _RESNET16 also cuts the batch to 64
_RESNET16_B256: dict[str, Any] = {"model": {"width": 16}, "train": {"precision": "fp32"}}
_RESNET16: dict[str, Any] = deep_merge(_RESNET16_B256, {"train": {"batch_size": 64}})
#: the same with a linear G output (model.g_out=linear, as R3GAN's G has)
_RESNET16_B256_LINEAR: dict[str, Any] = deep_merge(_RESNET16_B256, {"model": {"g_out": "linear"}})
#: the residual preset's networks and precision, for recipes of other tasks to train them
_RESNET_PRESET = load_preset("r3gan-resnet-mnist")
_RESNET_NETS: dict[str, Any] = {"model": _RESNET_PRESET["model"],
                                "train": {"precision": _RESNET_PRESET["train"]["precision"]}}

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
    # the same with train.precision=auto (bf16 on a CPU with bf16 matmul instructions): timed
    # beside it by step_rate.py (docs/results/step_rate_mnist_bf16.md: 1.57x); 10 minutes, seed 0
    # (2026-12-05): 17,163 steps, FID 6.44 against the default's 7.37 [6.64-7.49] (other days).
    # 3 seeds: 6.52 [6.44-7.29] against the default's 5.44 [4.31-6.50] rerun the same day
    # (docs/results/mnist-time-rerun-2026-12-05): more steps, not lower FID; not adopted (NOTES)
    "r3gan-mlp-b256-g1-auto": ("r3gan-mlp-b256-g1", {"train": {"precision": "auto"}}),
    "r3gan-mlp-b256-g1-reuse": ("r3gan-mlp-b256-g1", {"train": {"reuse_fakes": True}}),
    # the same with twice the critic's width (1024-512): with R1+R2 at gamma 1 the default's critic
    # barely separates real from fake (loss 0.65 against log 2 = 0.69, D(real) - D(fake) about 0.1,
    # ADA's p at 0 from step 400 to 8,000 in the lin50 cells' logs), so a stronger critic may give G
    # a better signal per step, as the wider critic did on StackedMNIST (r3gan-mlp-stacked-warm-d1024);
    # about 1.8x the multiply-adds a step (2026-12-05 night). Seed 0 at 10,000 steps: 5.70 against the
    # default's 4.69, its curve above the default's throughout; not pursued (STEP_NOTES)
    "r3gan-mlp-b256-g1-dwide": ("r3gan-mlp-b256-g1", {"model": {"d_hidden": [1024, 512]}}),
    # the same with both learning rates held for the first half of the run and then decayed
    # linearly to 0 at its end (optim.*.decay_start 0.5, the CycleGAN recipe's schedule; the end
    # is train.iters or the time budget, whichever comes first): the default's FID stops falling
    # at about 5,000 steps and wanders by 1-2 between evaluations (its 10,000-step curves),
    # the kind of noise a falling step size removes (2026-12-05 night). 10,000 steps, seeds 0 and 1:
    # 7.40 and 6.82 against the default's 4.69 and 5.82, so not adopted (STEP_NOTES)
    "r3gan-mlp-b256-g1-lin50": ("r3gan-mlp-b256-g1", {"optim": {"g": {"schedule": "linear", "decay_start": 0.5},
                                                                "d": {"schedule": "linear", "decay_start": 0.5}}}),
    # three single changes to the default at the same cost a step (2026-12-05, late; screened on
    # seed 0 at 10,000 steps, three cells side by side at one thread each): no batch norm in G
    # (R3GAN's networks need none under R1+R2, and G's batch statistics are what the EMA copy has
    # to re-measure); dropout 0.25 after D's hidden layers (the tutorial's critic has it, and D
    # sees its 8,000 training images about 320 times in 10,000 steps); a 128-d latent. gnone
    # started dead (25.4), ddrop 5.49 against 4.69; z128 4.91 [4.40-7.24] on 3 seeds, one draw,
    # level with the default on 8 draws (5.47 against 5.56); none adopted (STEP_NOTES)
    "r3gan-mlp-b256-g1-gnone": ("r3gan-mlp-b256-g1", {"model": {"g_norm": "none"}}),
    "r3gan-mlp-b256-g1-ddrop": ("r3gan-mlp-b256-g1", {"model": {"d_dropout": 0.25}}),
    "r3gan-mlp-b256-g1-z128": ("r3gan-mlp-b256-g1", {"model": {"z_dim": 128}}),
    # three changes that cost more a step (2026-12-05, late; seed 0 at 10,000 steps first, three
    # side by side at one thread): both rates at 1e-3 (the lin50 cells' critic separated more, and
    # their FID rose, as the rates fell, so the other direction); G's steps on 512 latents while D
    # keeps 256 real and 256 generated (a less noisy G gradient, about 1.3x a step); two D steps per
    # G step (n_critic 2, about 1.7x a step: the critic tracks G more closely at each G step).
    # Seed 0: 11.96, 5.06 and 6.54 against the default's 4.69; on 8 draws 11.27, 5.36 and 6.71
    # against 5.56 (STEP_NOTES); none run further
    "r3gan-mlp-b256-g1-lr1e3": ("r3gan-mlp-b256-g1", {"optim": {"g": {"lr": 1e-3}, "d": {"lr": 1e-3}}}),
    "r3gan-mlp-b256-g1-gb512": ("r3gan-mlp-b256-g1", {"train": {"g_batch_size": 512}}),
    "r3gan-mlp-b256-g1-nc2": ("r3gan-mlp-b256-g1", {"train": {"n_critic": 2}}),
    # the same as its cells measured it before 2026-12-03 evening: the EMA generator with the
    # live G's batch-norm statistics copied (train.ema_batchnorm=copy; the default since is to
    # measure its own). Its 10,000-step cells are those first cells (kept under this name
    # when the default's were rerun); they ran as a cosine of gamma from 1 to 1 (NOTES)
    "r3gan-mlp-b256-g1-bncopy": ("r3gan-mlp-b256-g1", {"train": {"ema_batchnorm": "copy"}}),
    # the same with the 100 kimg EMA half-life (about 390 steps at batch 256): g1 reached 0.54x
    # the tutorial at 10,000 steps (target 0.5x) with its curve still moving by 1-3 between
    # evaluations, and the longer EMA lowered the previous default at 10,000 steps on every seed.
    # Rerun with the EMA generator's own batch-norm statistics (2026-12-05): 7.02 [5.15-7.07] on one
    # draw, 6.03 on 8 against the default's 5.56; not adopted (STEP_NOTES)
    "r3gan-mlp-b256-g1-ema100": ("r3gan-mlp-b256-g1", {"train": {"ema_halflife_kimg": 100}}),
    # the same as its cells measured it on 2026-12-03, before the EMA generator measured its own
    # batch-norm statistics: copied from the live G, which a 390-step half-life lags furthest. Its
    # 10,000-step cells are those first cells, kept under this name when ema100 was rerun (2026-12-05)
    "r3gan-mlp-b256-g1-ema100-bncopy": ("r3gan-mlp-b256-g1", {"train": {"ema_halflife_kimg": 100,
                                                                        "ema_batchnorm": "copy"}}),
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
    # between the two (2026-12-05): the default's live G reads KL 0.146 where its 10 kimg EMA
    # reads 0.0884 (docs/results/stacked_kl_parts.md), and 100 kimg read higher at 10,000 steps.
    # In 10 minutes, 3 seeds each run right after the default's: FID 16-18% lower on every seed,
    # KL higher on two (0.115 against 0.105, medians); not adopted for the KL target
    "r3gan-mlp-stacked-warm-ema30": ("r3gan-mlp-stacked-warm", {"train": {"ema_halflife_kimg": 30}}),
    # lazy R1+R2 (StyleGAN2's lazy regularization: the penalty every 4 or 16 critic steps,
    # weighted x4 or x16, D's Adam corrected): the default reaches KL 0.05 at about 10,000
    # steps and makes about half that in 10 CPU minutes, so a cheaper step is a way to the
    # KL target at the time budget if it is level step for step (benchmarks/step_rate.py).
    # every 4: 1.31x the default's steps/s, level step for step; in 10 minutes KL 0.0756 and
    # FID 111 on 3 seeds against the default's 0.105 and 146 the same day; at 10,000 steps
    # KL 0.0548 and FID 67.1 against 0.0502 and 62.8 (STACKED_NOTES); not adopted yet.
    # every 16: no faster (1.32x), so not trained
    "r3gan-mlp-stacked-warm-lazy4": ("r3gan-mlp-stacked-warm", {"penalty": {"every": 4}}),
    "r3gan-mlp-stacked-warm-lazy16": ("r3gan-mlp-stacked-warm", {"penalty": {"every": 16}}),
    # the same in bfloat16 autocast (train.precision=bf16): on a CPU with native bf16 matmul
    # (avx512_bf16 or AMX) its matmuls run about 2.3x fp32's rate; on one without, slower
    "r3gan-mlp-stacked-warm-bf16": ("r3gan-mlp-stacked-warm", {"train": {"precision": "bf16"}}),
    "r3gan-mlp-stacked-warm-lazy4-bf16": ("r3gan-mlp-stacked-warm", {"penalty": {"every": 4},
                                                                      "train": {"precision": "bf16"}}),
    # StackedMNIST's recipe since 2026-12-05: the two together as a preset, with precision
    # auto (bf16 where the chip multiplies bf16 natively, fp32 elsewhere); lazy4-bf16's
    # seed 0 read KL 0.0479 in 10 minutes (11,109 steps) before it was made
    "r3gan-mlp-stacked-lazy": ("r3gan-mlp-stacked-lazy", {}),
    # the same with train.reuse_fakes: the G step backpropagates through the critic step's
    # fakes instead of drawing new ones (one G forward a step less; the G update is the
    # same as a fresh forward of those latents would give). Its first cells ran as the lazy
    # preset with that one key set, which is what this preset is; StackedMNIST's recipe since
    # 2026-12-05 (evening)
    "r3gan-mlp-stacked-lazy-reuse": ("r3gan-mlp-stacked-lazy-reuse", {}),
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
    # first layer grows), for the digits it makes too rarely. Its first cells (statistics copied,
    # kept as -bncopy) read under the KL target at 10,000 steps by a small margin; rerun with the
    # EMA generator's own statistics (2026-12-04) it read above the default (STACKED_NOTES), so
    # not the default
    "r3gan-mlp-stacked-warm-z128": ("r3gan-mlp-stacked-warm", {"model": {"z_dim": 128}}),
    "r3gan-mlp-stacked-warm-z128-bncopy": ("r3gan-mlp-stacked-warm", {"model": {"z_dim": 128},
                                                                      "train": {"ema_batchnorm": "copy"}}),
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
    # its first cells (2026-12-02), scored with the live G's batch-norm statistics copied into
    # the EMA generator (before train.ema_batchnorm=recompute became the default); kept so the
    # rerun can be read beside them
    "dcgan-upconv-bn-after-bncopy": ("dcgan-upconv-mnist", {"train": {"ema_batchnorm": "copy"}}),
    # MNIST's default recipe (r3gan-mlp-b256-g1: RpGAN, R1+R2 gamma 1, batch 256, Adam 5e-4,
    # augmentation, EMA) on the convolutional families instead of the MLP: a conv net at batch
    # 256 costs a CPU 10-20x the MLP's step, so these are the GPU's candidates
    # (benchmarks/gpu_image_cells.sh) for beating the tutorial step for step
    "r3gan-b256-g1-upconv": ("r3gan-mlp-b256-g1", {"model": {"name": "upconv"}}),
    # the resnet one is shipped as the preset r3gan-resnet-mnist (tests/test_resolve.py pins it
    # to r3gan-mlp-b256-g1 with only the model changed), so its variants start from that preset
    "r3gan-b256-g1-resnet": ("r3gan-resnet-mnist", {"train": {"precision": "fp32"}}),  # as its H200 cells ran
    # the same in bf16 autocast: an H200 steps it 1.6x faster than in fp32 (gpu_conv_step.py,
    # 23.7 against 14.7 steps/s), which puts 5,000 steps inside one device call
    "r3gan-b256-g1-resnet-bf16": ("r3gan-resnet-mnist", {"train": {"precision": "bf16"}}),
    # the resnet recipe cut to what a 2-core CPU can step: width 16 and batch 64, a sixteenth of
    # the FLOPs (27 against 436 GFLOP a step; 2.0 steps/s on this CPU against 0.2, where the conv
    # preset makes 1.1), the rest of the default's recipe unchanged
    "r3gan-b64-g1-resnet16": ("r3gan-resnet-mnist", _RESNET16),
    # the same with ADA's probability moving as fast per step as at batch 256 (speed_img 25,000
    # images, not 100,000): at batch 64 its critic won outright from about step 100 (loss 0.02)
    # while the probability crept up, and seed 0 collapsed for good at step 1,100
    "r3gan-b64-g1-resnet16-ada25k": ("r3gan-resnet-mnist", {**_RESNET16, "augment": {"speed_img": 25000}}),
    # width 16 at the recipe's batch of 256 (110 GFLOP a step, 0.8 steps/s on this CPU, where the
    # conv preset makes 1.1): separates the two cuts above, since at batch 64 the critic won
    # Its 10,000-step cell, seed 0, began 2026-12-05 (FID 176 at 833 steps; 1.5-1.7 s a step
    # at 2 threads that night): a checkpoint each 1,000 steps, and the same command resumes it
    # (checked there by a kill and restart at step 1,000); it finished 2026-12-06 (FID 4.62), and
    # seeds 1 and 2 ran one after the other at two threads, as seed 0 did (--seeds 1,2): seed 1
    # finished 2026-12-06 (FID 4.05); seed 2 was lost at step 6,000 with its machine, between sittings
    "r3gan-b256-g1-resnet16": ("r3gan-resnet-mnist", _RESNET16_B256),
    # the same as a user runs the preset on a CPU (--set model.width=16), its precision left at
    # auto: bf16 on a CPU with bf16 matmul instructions (timed beside it by step_rate.py)
    "r3gan-resnet16-auto": ("r3gan-resnet-mnist", {"model": {"width": 16}}),
    # the same with a linear G output (model.g_out=linear, as R3GAN's G): its seeds spent their
    # first 300 steps with G's gradient norm near 0 (tanh's flat tail at a near-black image)
    # until ADA's probability reached 1; on StackedMNIST the linear output kept G learning.
    # Its seed 0 (2026-12-05) started faster (FID 281 at 416 steps) but read 214 at 1,664, 3-7x
    # behind every tanh seed; stopped at 1,760 (docs/results/resnet_cpu)
    "r3gan-b256-g1-resnet16-linear": ("r3gan-resnet-mnist", _RESNET16_B256_LINEAR),
    # the residual recipe on StackedMNIST, for a GPU (precision auto: bf16 there), where R3GAN
    # reports all 1,000 modes and KL 0.029: MNIST's preset as it is, and StackedMNIST's own
    # recipe (Adam warmed up to 5e-4 over 1,000 steps, gamma decaying 1 -> 0.1) on its networks
    "r3gan-resnet-stacked": ("r3gan-resnet-mnist", {}),
    "r3gan-resnet-stacked-warm": ("r3gan-mlp-stacked-warm", _RESNET_NETS),
    # MNIST's residual recipe at width 16 on StackedMNIST, for a 2-core CPU (fp32, about 0.8
    # steps/s as on MNIST, where it read 5.28 [4.26-5.81] at 5,000 steps, 0.26x the tutorial):
    # whether conv networks see the uneven digit frequencies per channel that held the MLP's KL
    # at 0.05 (R3GAN reports 0.029)
    "r3gan-resnet16-stacked": ("r3gan-resnet-mnist", _RESNET16_B256),
    # its seed 0 (2026-12-05, stopped at step 1,270, its last log line) lost G at once: D's loss 0.02 from
    # step 90, ADA's probability at 1.0 from about step 410, one mode and FID 5,270 at 416 and
    # 832 steps, where MNIST's seeds read 114-147 at 832. The next CPU candidate is StackedMNIST's
    # own recipe (Adam warmed up to 5e-4 over 1,000 steps, gamma 1 -> 0.1) on the same networks,
    # the width-16 twin of the GPU's r3gan-resnet-stacked-warm
    "r3gan-resnet16-stacked-warm": ("r3gan-mlp-stacked-warm", deep_merge(_RESNET_NETS, _RESNET16_B256)),
    # its seed 0 (2026-12-05, stopped after step 940) lost G as well: one mode and the same FID
    # (5,269) at 416 and 832 steps; at step 500 G drew one image for every latent (spread over
    # latents 0.01 a pixel) with 69% of its pixels past 0.99 in tanh's flat tail. R3GAN's G
    # has no output activation, so: MNIST's residual recipe on StackedMNIST with a linear G
    # output (model.g_out=linear), nothing else changed. Its seed 0 kept G learning but covered
    # 387 modes at 1,664 steps against the MLP default's 694-728; stopped at 1,810
    "r3gan-resnet16-stacked-linear": ("r3gan-resnet-mnist", _RESNET16_B256_LINEAR),
    # MNIST's residual recipe on StackedMNIST with R1+R2 held at gamma 5 instead of 1: its critic
    # won at once there (D's loss 0.02 from step 90), and a stronger penalty smooths a critic.
    # Its seed 0 (2026-12-05) came alive after a dead start: 223 modes at 416 steps, 457 at 832
    # (the MLP default 557-617). Run to the full budget the next sitting (resumed at step 500)
    # it stayed behind the default at every reading and ended at KL 0.182 against 0.0974: not adopted
    "r3gan-resnet16-stacked-g5": ("r3gan-resnet-mnist", deep_merge(_RESNET16_B256, {"penalty": {"weight": 5.0}})),
    # StackedMNIST's default (the MLP recipe r3gan-mlp-stacked-warm) with a linear G output:
    # whether tanh's flat tail is part of what holds its mode KL at 0.05-0.16. It lost the critic
    # instead (D's loss near log 2 from step 500): seed 0 read KL 0.473 in 10 minutes
    "r3gan-mlp-stacked-warm-linear": ("r3gan-mlp-stacked-warm", {"model": {"g_out": "linear"}}),
    # the conv preset with the MLP default's adaptive augmentation (translation + cutout, ADA's
    # target 0.6): trained on 8,000 images its critic wins more and more (seed 0: loss 1.3 at the
    # start, a mean of 0.35 after 2,000 steps, mean outputs near +-4 by the end), which
    # augmentation is meant to hold back; the same cost a step
    "dcgan-upconv-bn-after-aug": ("dcgan-upconv-mnist", {"augment": _MLP_AUGMENT}),
    # and with one-sided label smoothing (real label 0.9, Salimans et al. 2016) on top, which
    # holds back an over-confident critic in the loss itself (an R1 penalty, the other way, is
    # refused beside D's batch norm); the same cost a step
    "dcgan-upconv-bn-after-aug-ls": ("dcgan-upconv-mnist", {"augment": _MLP_AUGMENT, "loss": {"real_label": 0.9}}),
}
#: configs that only make sense on some tasks (image presets on their own data)
ONLY_ON = {"dcgan-mnist": ("mnist",), "r3gan-digits": ("digits",), "r3gan-mnist": ("mnist", "stackedmnist"),
           "r3gan-mlp-mnist": ("mnist",), "r3gan-mlp-mnist-decay": ("mnist",), "r3gan-mlp-b256": IMAGE_TASKS,
           "r3gan-mlp-b256-ema100": ("mnist", "folder32"),
           "r3gan-mlp-b256-wide": ("mnist",),
           "r3gan-mlp-b512": ("mnist",), "r3gan-mlp-b256-g1": ("mnist", "folder32"),
           "r3gan-mlp-b256-g1-auto": ("mnist",), "r3gan-mlp-b256-g1-reuse": ("mnist",),
           "r3gan-mlp-b256-g1-lin50": ("mnist",), "r3gan-mlp-b256-g1-dwide": ("mnist",),
           "r3gan-mlp-b256-g1-gnone": ("mnist",), "r3gan-mlp-b256-g1-ddrop": ("mnist",),
           "r3gan-mlp-b256-g1-z128": ("mnist",),
           "r3gan-mlp-b256-g1-lr1e3": ("mnist",), "r3gan-mlp-b256-g1-gb512": ("mnist",),
           "r3gan-mlp-b256-g1-nc2": ("mnist",),
           "r3gan-mlp-b256-g1-bncopy": ("mnist", "folder32"),
           "r3gan-mlp-b256-g1-ema100": ("mnist",), "r3gan-mlp-b256-g1-ema100-bncopy": ("mnist",), "r3gan-mlp-b256-g2": ("mnist",),
           "r3gan-mlp-b256-g2-ema100": ("mnist",),
           "r3gan-mlp-stacked": MODE_TASKS,
           "r3gan-mlp-b256-g2d4": ("stackedmnist",), "r3gan-mlp-stacked-warm": MODE_TASKS + ("folder64",),
           "r3gan-mlp-stacked-warm-ema100": ("stackedmnist",), "r3gan-mlp-stacked-warm-ema30": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-lazy4": ("stackedmnist",), "r3gan-mlp-stacked-warm-lazy16": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-bf16": ("stackedmnist",), "r3gan-mlp-stacked-warm-lazy4-bf16": ("stackedmnist",),
           "r3gan-mlp-stacked-lazy": ("stackedmnist",), "r3gan-mlp-stacked-lazy-reuse": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-bncopy": ("stackedmnist", "folder64"),
           "r3gan-mlp-stacked-warm-d1024": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-g2048": ("stackedmnist",), "r3gan-mlp-stacked-warm-wide": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-g1": ("stackedmnist",), "r3gan-mlp-stacked-warm-mbstd4": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-z128": ("stackedmnist",), "r3gan-mlp-stacked-warm-z128-bncopy": ("stackedmnist",),
           "r3gan-mlp-stacked-warm-cos": ("stackedmnist",),
           "r3gan-toy-tuned": ("ring8", "grid25", "swissroll"), "tutorial-dcgan": IMAGE_TASKS,
           "tutorial-dcgan-pg": IMAGE_TASKS,
           "r3gan-upconv": IMAGE_TASKS, "r3gan-resnet": IMAGE_TASKS,
           "dcgan-upconv": IMAGE_TASKS, "dcgan-upconv-bn": IMAGE_TASKS, "dcgan-upconv-bn-after": ("mnist",),
           "dcgan-upconv-bn-after-bncopy": ("mnist",), "r3gan-b256-g1-upconv": ("mnist",),
           "r3gan-b256-g1-resnet": ("mnist",), "r3gan-b256-g1-resnet-bf16": ("mnist",),
           "r3gan-b64-g1-resnet16": ("mnist",), "r3gan-b64-g1-resnet16-ada25k": ("mnist",),
           "r3gan-b256-g1-resnet16": ("mnist",), "r3gan-resnet16-auto": ("mnist",), "r3gan-b256-g1-resnet16-linear": ("mnist",),
           "r3gan-resnet-stacked": ("stackedmnist",), "r3gan-resnet-stacked-warm": ("stackedmnist",),
           "r3gan-resnet16-stacked": ("stackedmnist",), "r3gan-resnet16-stacked-warm": ("stackedmnist",),
           "r3gan-resnet16-stacked-linear": ("stackedmnist",), "r3gan-mlp-stacked-warm-linear": ("stackedmnist",),
           "r3gan-resnet16-stacked-g5": ("stackedmnist",),
           "dcgan-upconv-bn-after-aug": ("mnist",), "dcgan-upconv-bn-after-aug-ls": ("mnist",)}



def budget_parts(budget: str) -> Optional[tuple[str, Optional[int]]]:
    """A budget's kind and N: ``time``/``steps`` (each task's own: N is None) or
    ``timeN``/``stepsN`` (N seconds of training clock, N generator steps; N > 0). None
    where ``budget`` is not a budget. The one place a budget's name is read."""
    for kind in ("time", "steps"):
        n = budget[len(kind):]
        if budget.startswith(kind) and (not n or (n.isdigit() and int(n) > 0)):
            return kind, int(n) if n else None
    return None


def steps_of(task: str, budget: str) -> int:
    """The generator steps of a steps budget: ``steps`` (the task's), or ``stepsN``."""
    kind, n = budget_parts(budget) or (None, None)
    return n if kind == "steps" and n else TASKS[task]["steps"]


def is_timed(budget: str) -> bool:
    """Whether a budget counts training seconds: ``time`` (each task's own, the CPU page's)
    or ``timeN`` (N seconds, for machines of other speeds, e.g. a GPU's minutes)."""
    return (budget_parts(budget) or (None,))[0] == "time"


def seconds_of(task: str, budget: str) -> int:
    """The training seconds of a timed budget: ``time`` (the task's), or ``timeN``."""
    kind, n = budget_parts(budget) or (None, None)
    return n if kind == "time" and n else TASKS[task]["seconds"]



#: the tutorial baselines: config -> the style benchmarks/tutorial_dcgan.py trains in
TUTORIALS = {"tutorial-dcgan": "plain", "tutorial-dcgan-pg": "pytorch-gan"}


def strongest_tutorial(by: dict, task: str) -> Optional[list[dict]]:
    """The cells of the tutorial baseline with the lowest median FID on ``task`` (the ratio
    targets compare with the strongest tutorial measured), or None if none has run."""
    runs = [by[(task, name)] for name in TUTORIALS if by.get((task, name))]
    runs = [cs for cs in runs if any("fid" in c["final"] for c in cs)]
    return min(runs, key=lambda cs: statistics.median(c["final"]["fid"] for c in cs if "fid" in c["final"]),
               default=None)


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
