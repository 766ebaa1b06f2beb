"""Your own low-dimensional data: an N x D array from a .npy or .csv file.

The points are shifted and scaled by one factor for all coordinates (so distances keep
their proportions) into [-0.8, 0.8], where the generator's tanh output can reach them
without saturating; ``info["offset"]`` and ``info["scale"]`` undo it
(``x = x_scaled * scale + offset``). When the user names the mode centres
(``data.centres``) and spread (``data.spread``), in the file's units, the toy metrics
(modes covered, high-quality share) apply as for the shipped mixtures.
"""
from __future__ import annotations

from pathlib import Path

import re
import warnings

import numpy as np
import torch

from ..errors import ConfigError, DataError
from .base import DATASETS, Dataset

MAX_BYTES = 2 << 30  #: a points file larger than this is not "low-dimensional data"


def _file_lines(msg: str, skipped: int) -> str:
    """numpy counts rows from 0 after the skipped header; a user counts the file's lines
    from 1: "row 1" with a header is line 3."""
    m = re.search(r"at row (\d+), column (\d+)", msg)
    if not m:
        return msg
    line = int(m.group(1)) + skipped + 1
    return msg[:m.start()] + f"at line {line}, column {m.group(2)}" + msg[m.end():]


def read_points(path: Path) -> np.ndarray:
    """The N x D float array in ``path`` (.npy, or .csv / .txt with an optional header line)."""
    if not path.is_file():
        raise DataError(f"points file {str(path)!r} does not exist")
    if path.stat().st_size > MAX_BYTES:
        raise DataError(f"{path}: {path.stat().st_size >> 20} MiB is more than a points file should hold")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(path, allow_pickle=False)  # never unpickle a downloaded file
        elif suffix in (".csv", ".txt", ".tsv"):
            delim = "\t" if suffix == ".tsv" else ","
            with open(path, encoding="utf-8") as f:
                first = f.readline()
            try:
                [float(v) for v in first.strip().split(delim) if v.strip()]
                skip = 0
            except ValueError:
                skip = 1  # a header line
            with warnings.catch_warnings():  # numpy's "input contained no data": our message says it
                warnings.simplefilter("ignore")
                try:
                    arr = np.loadtxt(path, delimiter=delim, skiprows=skip, dtype=np.float64, ndmin=2)
                except ValueError as e:
                    raise ValueError(_file_lines(str(e), skip)) from None
        else:
            raise DataError(f"{path}: points must be a .npy or .csv file")
    except (ValueError, OSError, UnicodeDecodeError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"{path}: not a table of numbers ({msg})") from None
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise DataError(f"{path}: expected an N x D array of at least 2 rows, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"{path}: expected numbers, got {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).any(1).sum())
        raise DataError(f"{path}: {bad} row(s) hold NaN or infinite values")
    return arr


@DATASETS.register("points", help="your N x D array from a .npy or .csv file (data.file)")
def load_points(cfg) -> Dataset:
    if not cfg.file:
        raise ConfigError("data.name=points needs data.file (a .npy or .csv file of N x D numbers)")
    arr = read_points(Path(cfg.file))
    lo, hi = arr.min(0), arr.max(0)
    offset = (lo + hi) / 2
    scale = max(float((hi - lo).max()) / 2 / 0.8, 1e-12)
    x = torch.from_numpy((arr - offset) / scale).float()
    info: dict = {"offset": torch.from_numpy(offset).float(), "scale": scale, "file": str(cfg.file)}
    if cfg.centres:
        c = np.asarray(cfg.centres, np.float64)
        if c.shape[1] != arr.shape[1]:
            raise ConfigError(f"data.centres have {c.shape[1]} coordinate(s) but the points have {arr.shape[1]}")
        if cfg.spread is None:
            raise ConfigError("data.centres needs data.spread (the std of each mode, in the file's units)")
        info.update(centres=torch.from_numpy((c - offset) / scale).float(), std=cfg.spread / scale)
    return Dataset(name="points", x=x, info=info)
