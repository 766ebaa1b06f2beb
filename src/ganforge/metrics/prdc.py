"""Precision / recall (Kynkäänniemi et al. 2019) and density / coverage (Naeem et al. 2020)
from k-nearest-neighbour balls in feature space."""
from __future__ import annotations

import numpy as np
import torch


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return torch.cdist(torch.from_numpy(np.asarray(a, np.float64)), torch.from_numpy(np.asarray(b, np.float64))).numpy()


def _kth_radius(x: np.ndarray, k: int) -> np.ndarray:
    d = _pairwise(x, x)
    # index 0 of each sorted row is the point itself (distance 0)
    return np.partition(d, k, axis=1)[:, k]


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """precision, recall, density, coverage of ``fake`` against ``real`` features."""
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples in each set")
    r_real = _kth_radius(real, k)
    r_fake = _kth_radius(fake, k)
    d_rf = _pairwise(real, fake)  # (R, F)
    inside_real = d_rf < r_real[:, None]  # fake j inside real ball i
    precision = inside_real.any(0).mean()
    recall = (d_rf < r_fake[None, :]).any(1).mean()
    density = inside_real.sum(0).mean() / k
    coverage = (d_rf.min(1) < r_real).mean()
    return {"precision": float(precision), "recall": float(recall), "density": float(density),
            "coverage": float(coverage)}
