"""Data sources behind a registry; each returns a :class:`Dataset` in [-1, 1]."""
from __future__ import annotations

from ..config import DataConfig
from . import digits, images, mnist, points, stacked, toy  # noqa: F401  (register the sources)
from .base import DATASETS, Dataset, resize, split_holdout


def load_dataset(cfg: DataConfig) -> Dataset:
    """Load the dataset named by ``cfg.name``, with holdout and limit applied."""
    ds = DATASETS.get(cfg.name)(cfg)
    return split_holdout(ds, cfg.holdout, cfg.seed, cfg.limit)


__all__ = ["DATASETS", "Dataset", "load_dataset", "resize"]
