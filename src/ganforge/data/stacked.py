"""StackedMNIST (Metz et al. 2017; Srivastava et al. 2017): three MNIST digits as the red,
green and blue channels of one image, 1,000 modes (one per digit triple). Built on the fly
from the MNIST files in data.dir with a seeded choice of digits (``data.seed``); the label
of an image is its mode, 100a + 10b + c."""
from __future__ import annotations

import numpy as np
import torch

from .base import DATASETS, Dataset, resize
from .mnist import mnist_files


def stack_digits(x: np.ndarray, y: np.ndarray, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (n, 3, 28, 28) in [-1, 1] of three digits drawn with replacement by a
    generator seeded with ``seed``, and their modes."""
    idx = torch.randint(len(x), (n, 3), generator=torch.Generator().manual_seed(seed)).numpy()
    img = torch.from_numpy(x[idx].astype(np.float32)) / 127.5 - 1.0  # (n, 3, 28, 28)
    d = y[idx].astype(np.int64)
    return img, torch.from_numpy(100 * d[:, 0] + 10 * d[:, 1] + d[:, 2])


@DATASETS.register("stackedmnist", help="three MNIST digits as colour channels, 1,000 modes (data.n_samples images "
                   "drawn from the IDX files in data.dir)")
def load_stacked(cfg) -> Dataset:
    x, y = mnist_files(cfg)
    img, modes = stack_digits(x, y, cfg.n_samples, cfg.seed)
    return Dataset(name="stackedmnist", x=resize(img, cfg.size), y=modes, num_classes=1000, info={"modes": 1000})
