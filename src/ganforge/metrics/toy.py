"""Exact metrics for 2-D toy mixtures: modes covered, high-quality share, exact W1."""
from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


def mode_metrics(samples: torch.Tensor, centres: torch.Tensor, std: float, min_count: int = 0) -> dict[str, float]:
    """A sample is high quality when within 3 std (per coordinate, i.e. 3*std radius) of its
    nearest mode; a mode is covered when at least ``min_count`` (default: 1% of an even
    share, at least 1) high-quality samples fall on it."""
    d = torch.cdist(samples.double(), centres.double())
    dist, nearest = d.min(1)
    good = dist <= 3 * std
    counts = torch.bincount(nearest[good], minlength=len(centres))
    thresh = min_count or max(1, int(0.01 * len(samples) / len(centres)))
    return {"modes_covered": int((counts >= thresh).sum()), "modes_total": len(centres),
            "high_quality": float(good.double().mean())}


def exact_w1(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """1-Wasserstein distance between two equal-size point sets (optimal assignment)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"exact W1 needs equal-size sets, got {a.shape} and {b.shape}")
    cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    r, c = linear_sum_assignment(cost)
    return float(cost[r, c].mean())
