"""MNIST from a folder of IDX files (raw or .gz): training split, test split, or both."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, DataError
from .base import DATASETS, Dataset, resize
from .idx import read_idx

SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "t10k": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        p = folder / name
        if p.is_file():
            return p
    return None


def load_mnist_arrays(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """All MNIST images (N, 28, 28) uint8 and labels (N,) found in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"MNIST folder {str(folder)!r} does not exist")
    xs, ys = [], []
    for img_stem, lab_stem in SPLITS.values():
        ip, lp = _find(folder, img_stem), _find(folder, lab_stem)
        if ip is None:
            continue
        x = read_idx(ip, expect_ndim=3)
        if lp is None:
            raise DataError(f"{ip}: no matching labels file {lab_stem}[.gz] in {folder}")
        y = read_idx(lp, expect_ndim=1)
        if len(x) != len(y):
            raise DataError(f"{ip}: {len(x)} images but {lp.name} holds {len(y)} labels")
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise DataError(f"{ip}: expected unsigned-byte IDX data")
        if y.size and y.max() > 9:
            raise DataError(f"{lp}: label {int(y.max())} out of range 0-9")
        xs.append(x)
        ys.append(y)
    if not xs:
        raise DataError(
            f"no MNIST files in {folder}: expected train-images-idx3-ubyte[.gz] or t10k-images-idx3-ubyte[.gz]"
        )
    x, y = np.concatenate(xs), np.concatenate(ys)
    if len(x) == 0:
        raise DataError(f"{folder}: the MNIST files hold 0 images ({', '.join(sorted(p.name for p in folder.iterdir()))})")
    return x, y


def mnist_files(cfg) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST arrays of the IDX files in ``cfg.dir`` (downloaded there first when
    ``cfg.download``), for every dataset made from them."""
    if not cfg.dir:
        raise ConfigError(f"data.name={cfg.name} needs data.dir (--data-dir FOLDER with the MNIST IDX files)")
    if cfg.download:
        from .download import download_mnist

        download_mnist(cfg.dir, cfg.mirrors, cfg.download_splits, log=print)
    return load_mnist_arrays(cfg.dir)


@DATASETS.register("mnist", help="MNIST from IDX files in data.dir (downloaded with checksums when data.download)")
def load_mnist(cfg) -> Dataset:
    x, y = mnist_files(cfg)
    xt = torch.from_numpy(x.astype(np.float32)).unsqueeze(1) / 127.5 - 1.0
    return Dataset(name="mnist", x=resize(xt, cfg.size), y=torch.from_numpy(y.astype(np.int64)), num_classes=10)
