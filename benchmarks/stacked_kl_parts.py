#!/usr/bin/env python3
"""Where StackedMNIST's mode KL comes from: each channel's digits, or how the channels go together.

    python benchmarks/stacked_kl_parts.py RUN_DIR [RUN_DIR ...] [--mnist ../shared/data/mnist]
        [--n 26000] [--seed 0] [--labels "NAME;NAME"] [--real-blur 1,1.5] [--live] [--out FILE.md]

The suite's KL from the generated mode histogram q (1,000 modes, mode 100a + 10b + c) to
uniform splits exactly into two kinds of part:

    KL(q || U1000) = KL(q_a || U10) + KL(q_b || U10) + KL(q_c || U10) + TC(q)

where q_a, q_b, q_c are the three channels' digit histograms and TC(q) = KL(q || q_a q_b q_c)
is the total correlation: what the channels' digits say about each other. A generator whose
channels each draw digits at the wrong rates pays in the first three terms; one that draws
some digit combinations too often while each channel's rates are right pays in TC. Real
images (the first row) set the floor of each part: MNIST's own class rates are not uniform,
and 26,000 draws leave some correlation by chance. ``--real-blur`` adds rows of the same
real images under a Gaussian blur of each given sigma (pixels): how the reader's counts move
when digits are soft, as a generator's often are, with the real rates underneath unchanged.

Each run is loaded from its newest checkpoint (the EMA generator where the run keeps one)
and draws ``--n`` samples on the latents the quality suite's final measure uses
(99,000 + ``--seed``), so the total matches that run's committed KL when the checkpoint is
the final one. ``--live`` adds a row per run for its live generator (the weights the EMA
averages), where the run keeps an EMA.
"""
from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from study import emit_table  # noqa: E402
from ganforge import api  # noqa: E402
from ganforge.config import DataConfig  # noqa: E402
from ganforge.data import load_dataset  # noqa: E402
from ganforge.errors import GanforgeError  # noqa: E402
from ganforge.metrics.evaluate import mode_stats  # noqa: E402
from ganforge.metrics.features import stacked_lenet  # noqa: E402


def _kl_uniform(counts: np.ndarray) -> float:
    return mode_stats(counts)["mode_kl"]


def kl_parts(modes: np.ndarray) -> dict[str, float]:
    """The exact split of the mode KL of predicted modes ``modes`` (ints in 0..999)."""
    joint = np.bincount(modes, minlength=1000).astype(np.float64)
    total = _kl_uniform(joint)
    cube = joint.reshape(10, 10, 10)
    marg = [cube.sum(axis=(1, 2)), cube.sum(axis=(0, 2)), cube.sum(axis=(0, 1))]
    channels = [_kl_uniform(m) for m in marg]
    # TC = KL(q || product of marginals); equal to total - sum(channels), computed directly as a check
    q = cube / cube.sum()
    prod = (marg[0][:, None, None] * marg[1][None, :, None] * marg[2][None, None, :]) / cube.sum() ** 3
    nz = q > 0
    tc = float((q[nz] * np.log(q[nz] / prod[nz])).sum())
    if abs(total - sum(channels) - tc) > 1e-9:
        raise AssertionError("the KL split does not add up")
    return {"total": total, "a": channels[0], "b": channels[1], "c": channels[2], "tc": tc,
            "modes": int((joint > 0).sum()), "rates": [m / m.sum() for m in marg]}


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` (N, C, H, W) under a separable Gaussian blur of ``sigma`` pixels (3 sigma wide,
    edges replicated); ``sigma`` 0 returns ``x``."""
    if sigma <= 0:
        return x
    half = max(1, int(np.ceil(3 * sigma)))
    r = torch.arange(-half, half + 1, dtype=x.dtype)
    k = torch.exp(-r ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    c = x.shape[1]
    padded = F.pad(x, (half, half, half, half), mode="replicate")
    rows = F.conv2d(padded, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(rows, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


@functools.cache
def _reader():
    return stacked_lenet()  # one load of the weights for every row


def read_modes(x) -> np.ndarray:
    """Predicted modes of stacked images ``x`` (N, 3, H, W) in [-1, 1], by stacked-lenet."""
    _, logits = _reader().run(x)
    return logits.argmax(1)


def _sigmas(text: str) -> list[float]:
    try:
        out = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated sigmas in pixels, got {text!r}") from None
    if any(v <= 0 for v in out):
        raise argparse.ArgumentTypeError(f"sigmas must be above 0, got {text!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="run directories (each with checkpoints/)")
    ap.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    ap.add_argument("--n", type=int, default=26_000)
    ap.add_argument("--seed", type=int, default=0, help="the suite's seed: latents 99,000 + seed")
    ap.add_argument("--labels", default=None, help="the runs' names in the tables, ';'-separated (default: paths)")
    ap.add_argument("--real-blur", type=_sigmas, default=[], help="also the real images blurred by these sigmas (pixels), e.g. 1,1.5")
    ap.add_argument("--live", action="store_true", help="also each run's live generator, where it keeps an EMA")
    ap.add_argument("--out", type=Path, default=None, help="also write the tables here")
    a = ap.parse_args(argv)
    labels = a.labels.split(";") if a.labels else [str(r) for r in a.runs]
    if len(labels) != len(a.runs):
        ap.error(f"--labels names {len(labels)} runs, but {len(a.runs)} run directories were given")
    try:  # a missing run or data folder is a user's mistake: one line, exit 2
        models = [api.load_model(run) for run in a.runs]
        real = load_dataset(DataConfig(name="stackedmnist", dir=str(a.mnist), n_samples=a.n, seed=a.seed))
    except (GanforgeError, OSError) as e:
        print(f"stacked_kl_parts: {e}", file=sys.stderr)
        return 2
    rows = [("real images (data seed %d)" % a.seed, "-", kl_parts(read_modes(real.x)))]
    for sigma in a.real_blur:
        rows.append((f"real images, blurred (sigma {sigma:g} px)", "-", kl_parts(read_modes(blur(real.x, sigma)))))
    for m, label in zip(models, labels):
        rows.append((label, m.step, kl_parts(read_modes(m.model.generate_n(a.n, 99_000 + a.seed)))))
        if a.live and m.model.ema is not None:
            m.model.ema = None  # the sampler is then the live G (GANModel.sampler)
            rows.append((label + ", live G", m.step, kl_parts(read_modes(m.model.generate_n(a.n, 99_000 + a.seed)))))
    blurs = ",".join(f"{v:g}" for v in a.real_blur)
    given = (f' --labels "{a.labels}"' if a.labels else "") + (f" --real-blur {blurs}" if blurs else "") \
        + (" --live" if a.live else "")
    lines = ["# StackedMNIST: where the mode KL comes from", "",
             f"Command: `python benchmarks/stacked_kl_parts.py {' '.join(str(r) for r in a.runs)} --n {a.n} "
             f"--seed {a.seed}{given}`. KL(q || uniform) = KL of channel a + b + c (each channel's digits against "
             "uniform) + TC (the total correlation between channels).", "",
             "| images | step | modes | KL total | channel a | channel b | channel c | TC |",
             "|---|---|---|---|---|---|---|---|"]
    for name, step, p in rows:
        lines.append(f"| {name} | {step} | {p['modes']} | {p['total']:.4f} | {p['a']:.4f} | {p['b']:.4f} | "
                     f"{p['c']:.4f} | {p['tc']:.4f} |")
    lines += ["", "Each channel's digit rates, percent (digits 0-9; uniform is 10):", "",
              "| images | channel | " + " | ".join(str(d) for d in range(10)) + " |", "|---|---|" + "---|" * 10]
    for name, _, p in rows:
        for ch, r in zip("abc", p["rates"]):
            lines.append(f"| {name} | {ch} | " + " | ".join(f"{100 * v:.1f}" for v in r) + " |")
    emit_table(lines, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
