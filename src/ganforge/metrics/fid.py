"""Fréchet distance and kernel inception distance over feature matrices.

Pure functions of (N, D) feature arrays, computed in float64 with NumPy/SciPy.
"""
from __future__ import annotations

import numpy as np
from scipy import linalg


def feature_stats(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of (N, D) features."""
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"need an (N >= 2, D) feature matrix, got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)).

    tr((S1 S2)^(1/2)) is the sum of square roots of the eigenvalues of S1 S2, which are
    real and >= 0 for PSD S1, S2 (S1 S2 is similar to S1^(1/2) S2 S1^(1/2)); taken via
    the symmetric form, which avoids sqrtm's complex round-off entirely.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
    w, v = linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T  # S1^(1/2), symmetric PSD
    m = root1 @ s2 @ root1
    ev = linalg.eigvalsh((m + m.T) / 2)
    tr_covmean = np.sqrt(np.clip(ev, 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean, 0.0))


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    return frechet_distance(*feature_stats(a), *feature_stats(b))


def _poly_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    d = x.shape[1]
    return (x @ y.T / d + 1.0) ** 3


#: KID's number of random subsets, everywhere (in-training evaluation, ``ganforge eval``,
#: the metric function): one default, so the same run reports the same KID wherever measured
KID_SUBSETS = 10


def kid_from_features(a: np.ndarray, b: np.ndarray, subsets: int = KID_SUBSETS, subset_size: int = 1000,
                      seed: int = 0) -> tuple[float, float]:
    """Unbiased MMD^2 with the cubic polynomial kernel (Bińkowski et al. 2018), averaged over
    random subsets; returns (mean, std)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = _poly_kernel(x, x), _poly_kernel(y, y), _poly_kernel(x, y)
        sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        syy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        vals.append(sxx + syy - 2 * kxy.mean())
    v = np.array(vals)
    return float(v.mean()), float(v.std())
