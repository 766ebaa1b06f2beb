"""The 1,797 handwritten 8x8 digits that ship inside scikit-learn (no download)."""
from __future__ import annotations

import torch

from .base import DATASETS, Dataset, resize


@DATASETS.register("digits", help="the 1,797 8x8 digits of scikit-learn (embedded)")
def load_digits_dataset(cfg) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    # pixel values are 0..16; map to [-1, 1]
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0
    y = torch.tensor(d.target, dtype=torch.long)
    return Dataset(name="digits", x=resize(x, cfg.size), y=y, num_classes=10)
