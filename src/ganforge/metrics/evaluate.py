"""Evaluation: generated samples against a reference set, all metrics in one call.

Reference features are cached on disk keyed by the content hash of the reference
tensor and the extractor's weights, so repeated evaluations do not recompute them.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from ..errors import ConfigError
from ..registry import Registry
from .features import EXTRACTORS, Extractor, build_extractor, extractor_info
from .fid import KID_SUBSETS, fid_from_features, kid_from_features
from .prdc import prdc
from .toy import exact_w1, mode_metrics


def cache_dir() -> Path:
    return Path(os.environ.get("GANFORGE_CACHE", Path.home() / ".cache" / "ganforge")) / "features"


def tensor_hash(x: torch.Tensor) -> str:
    return hashlib.sha256(x.detach().cpu().contiguous().numpy().tobytes() + str(tuple(x.shape)).encode()).hexdigest()


def reference_features(ext: Extractor, real: torch.Tensor, use_cache: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(features, logits) of the reference set, from the cache when possible."""
    # keyed by the weights actually in use (not the shipped metadata): features computed
    # with other weights (--weights, a rebuilt extractor) are never reused
    wid = getattr(ext, "weights_id", "") or extractor_info(ext.name).get("sha256", "x")[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{ext.name}-{wid}{getattr(ext, 'prepare_id', '')}")  # user extractors: module:function, files
    key = f"{safe}-{tensor_hash(real)[:24]}.npz"
    path = cache_dir() / key
    if use_cache and path.is_file():
        try:
            z = np.load(path)
            return z["features"].astype(np.float64), z["logits"].astype(np.float64)
        except (OSError, ValueError, KeyError):
            pass  # damaged cache entry: recompute
    f, lg = ext.run(real)
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
            np.savez(tmp, features=f.astype(np.float32), logits=lg.astype(np.float32))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home is no reason to fail an evaluation
    return f.astype(np.float32).astype(np.float64), lg.astype(np.float32).astype(np.float64)


def reference_set(data, mode: str = "auto") -> tuple[torch.Tensor, str]:
    """The real examples generated ones are compared with, and which they are: the holdout
    (``mode`` holdout, or auto when the dataset has one) or the training data."""
    use_holdout = mode == "holdout" or (mode == "auto" and data.holdout_x is not None)
    return (data.holdout_x, "holdout") if use_holdout else (data.x, "train")


def mode_stats(counts: np.ndarray) -> dict[str, Any]:
    """Mode coverage of a histogram of predicted modes (StackedMNIST's measure): modes with
    at least one sample, of all, and the KL divergence from the generated mode distribution
    q to the uniform one, sum q log(q K) (0 when every mode is equally often generated,
    log K when one mode is all there is)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        raise ValueError("mode_stats needs at least one sample")
    q = counts[counts > 0] / total
    return {"modes_covered": int((counts > 0).sum()), "modes_total": int(len(counts)),
            "mode_kl": float((q * np.log(q * len(counts))).sum())}


def classifier_metrics(logits: np.ndarray, num_classes: int) -> dict[str, float]:
    """Mode coverage from predicted classes, and the Inception-Score formula on the classifier."""
    p = torch.softmax(torch.from_numpy(logits), 1).numpy()
    pred = p.argmax(1)
    if num_classes >= 100:  # many modes (StackedMNIST): covered = generated at least once
        return mode_stats(np.bincount(pred, minlength=num_classes))
    hist = np.bincount(pred, minlength=num_classes) / len(pred)
    nz = hist[hist > 0]
    entropy = float(-(nz * np.log(nz)).sum())
    py = p.mean(0)
    kl = (p * (np.log(p + 1e-12) - np.log(py + 1e-12))).sum(1).mean()
    return {"classes_hit": int((hist > 0.5 / num_classes / 10).sum()),  # > 0.5% of samples each (for 10 classes)
            "class_entropy": entropy, "class_kl_uniform": float(np.log(num_classes) - entropy),
            "classifier_score": float(np.exp(kl))}


@dataclass(frozen=True)
class MetricInputs:
    """What a metric of images is computed from: features (and classifier logits) of the
    generated and the reference images, and the evaluation's options."""

    fake: np.ndarray
    real: np.ndarray
    fake_logits: np.ndarray
    num_classes: int
    kid_subsets: int
    kid_subset_size: int
    prdc_k: int


#: metrics of images by name: each maps MetricInputs to a dict of named values
METRICS: Registry[Callable[[MetricInputs], dict[str, Any]]] = Registry("metric")


@METRICS.register("fid", help="Frechet distance between feature Gaussians (lower is better)")
def _fid(m: MetricInputs) -> dict[str, Any]:
    return {"fid": fid_from_features(m.fake, m.real)}


@METRICS.register("kid", help="kernel inception distance, unbiased, mean and std over subsets")
def _kid(m: MetricInputs) -> dict[str, Any]:
    kid, std = kid_from_features(m.fake, m.real, m.kid_subsets, m.kid_subset_size)
    return {"kid": kid, "kid_std": std}


@METRICS.register("prdc", help="precision, recall, density, coverage (k-NN, at most 5,000 each side)")
def _prdc(m: MetricInputs) -> dict[str, Any]:
    sub = min(len(m.fake), len(m.real), 5000)  # k-NN metrics are O(N^2): cap, documented
    return prdc(m.real[:sub], m.fake[:sub], m.prdc_k)


@METRICS.register("classes", help="classes hit, class entropy, classifier score (classifier extractors only)")
def _classes(m: MetricInputs) -> dict[str, Any]:
    return classifier_metrics(m.fake_logits, m.num_classes) if m.num_classes else {}


def resolve_metric(name: str) -> Callable[[MetricInputs], dict[str, Any]]:
    """A registered metric, or your own as ``module:function`` (MetricInputs -> dict)."""
    if name in METRICS or ":" not in name:
        return METRICS.get(name)
    import importlib

    mod_name, _, attr = name.partition(":")
    try:
        fn = getattr(importlib.import_module(mod_name), attr, None)
    except ImportError as e:
        raise ConfigError(f"metric {name}: cannot import {mod_name!r} ({e})") from None
    if not callable(fn):
        raise ConfigError(f"metric {name}: {mod_name} has no function {attr!r}")
    return fn


def evaluate_samples(fake: torch.Tensor, real: torch.Tensor, extractor: Optional[str] = "auto",
                     toy_info: Optional[dict] = None, kid_subsets: int = KID_SUBSETS, kid_subset_size: int = 1000,
                     prdc_k: int = 5, device: str = "cpu", use_cache: bool = True,
                     extractor_obj: Optional[Extractor] = None, data_name: Optional[str] = None,
                     weights: Optional[str] = None, metrics: Optional[Sequence[str]] = None) -> dict[str, Any]:
    """The metrics of ``fake`` against ``real``: for images, those named in ``metrics``
    (names in METRICS or your own ``module:function``; default all registered). torch's global
    random stream is left as it was."""
    out: dict[str, Any] = {"n_fake": int(len(fake)), "n_real": int(len(real))}
    if fake.dim() == 2:  # toy points
        if toy_info and "centres" in toy_info:
            out.update(mode_metrics(fake, toy_info["centres"], toy_info["std"]))
        m = min(len(fake), len(real), 2000)
        out["w1"] = exact_w1(fake[:m].cpu(), real[:m].cpu())
        return out
    # building an extractor initializes a network from torch's global stream (and a metric may
    # draw from it): forked, so a training loop that evaluates takes the same course as one
    # that does not (the curve's cadence changed the tutorial's dropout masks before)
    with torch.random.fork_rng(devices=[]):
        ext = extractor_obj
        if ext is None:  # the caller's extractor, already built, is used as it is
            name = pick_extractor(fake, data_name) if extractor == "auto" else extractor
            if name is None:
                raise ConfigError("no feature extractor fits these images; pass one of: " + ", ".join(EXTRACTORS.names())
                                  + " (colour photos: --extractor inception, after pip install 'ganforge[inception]')")
            ext = build_extractor(name, device=device, weights=Path(weights) if weights else None)
        fr, lr = reference_features(ext, real, use_cache)
        ff, lf = ext.run(fake)
        out["extractor"] = ext.name
        out["features"] = int(fr.shape[1])
        inputs = MetricInputs(ff, fr, lf, ext.num_classes, kid_subsets, kid_subset_size, prdc_k)
        for name in (metrics or METRICS.in_order()):
            values = resolve_metric(name)(inputs)
            if not isinstance(values, dict):
                raise ConfigError(f"metric {name} must return a dict of named values, got {type(values).__name__}")
            out.update(values)
    return out


def over_draws(draws: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several evaluations of one sampler (each on its own latents) as one record: each
    numeric measure's median, and in ``spread`` its min, max and sample standard deviation.

    Why: at a few thousand samples a single draw of the latents moves the FID by more than
    the gap between two configs (sd 1.2-2.6 at FID 7-11 on MNIST with 2,000 samples,
    docs/results/fid_spread.md), so one number can rank two runs by luck. Keys that are not
    numbers (extractor names, the reference) are taken from the first draw."""
    import statistics

    if not draws:
        raise ValueError("over_draws needs at least one evaluation")
    out: dict[str, Any] = dict(draws[0])
    spread: dict[str, dict[str, float]] = {}
    for k, v in draws[0].items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        vals = [d[k] for d in draws if isinstance(d.get(k), (int, float)) and not isinstance(d.get(k), bool)]
        if len(vals) != len(draws):
            continue  # a measure one draw lacks is not summarised as if it had all
        out[k] = statistics.median(vals)
        spread[k] = {"min": min(vals), "max": max(vals),
                     "sd": statistics.stdev(vals) if len(vals) > 1 else 0.0}
    out["repeats"] = len(draws)
    out["spread"] = spread
    return out


def pick_extractor(x: torch.Tensor, data_name: Optional[str] = None) -> Optional[str]:
    """``digits`` for the scikit-learn digits (mnist-lenet reads them at only 74%),
    ``mnist-lenet`` for grey images, ``stacked-lenet`` for StackedMNIST; None for anything else."""
    if x.dim() == 4 and x.shape[1] == 1:
        return "digits" if data_name == "digits" else "mnist-lenet"
    if x.dim() == 4 and x.shape[1] == 3 and data_name == "stackedmnist":
        return "stacked-lenet"
    return None


#: images per feature (on the smaller side) under which `ganforge eval` warns: between two
#: disjoint sets of real MNIST images mnist-lenet's FID reads about 4 at 16 a feature and 21
#: at 2.3 (docs/results/fid_floor.md, benchmarks/fid_floor.py); the estimator's bias falls
#: with the count, so scores at different counts do not compare
MIN_PER_FEATURE = 16


def count_warning(record: dict[str, Any]) -> Optional[str]:
    """One line when an image evaluation's smaller set has fewer than MIN_PER_FEATURE
    images per feature of its extractor, else None."""
    dim = record.get("features")
    if not dim or "n_real" not in record or "n_fake" not in record:
        return None  # toy points, or a record without its counts
    # ints: over several draws (--repeats) the counts come as medians, i.e. floats
    dim = int(dim)
    side, n = min((int(record["n_real"]), "reference images"), (int(record["n_fake"]), "samples"))
    if side >= MIN_PER_FEATURE * dim:
        return None
    return (f"FID rests on {side} {n} for {dim} features ({record.get('extractor')}), {side / dim:.1f} a feature: "
            f"below {MIN_PER_FEATURE} a feature FID reads high even between two sets of real images "
            f"(docs/results/fid_floor.md): compare runs only at equal counts")


#: the measures that say how good a run is, in the order they are shown: FID (images),
#: modes covered and the high-quality share (data with known modes), W1 (points)
HEADLINE = ("fid", "modes_covered", "high_quality", "mode_kl", "w1")


def headline(record: dict[str, Any]) -> str:
    """A run's quality in a few words from an evaluation record ("" when it holds none):
    ``fid=21.3``, ``modes=8/8 high_quality=0.83 w1=0.031``."""
    parts = []
    for k in HEADLINE:
        v = record.get(k)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        if k == "modes_covered" and isinstance(record.get("modes_total"), int):
            parts.append(f"modes={v}/{record['modes_total']}")
        else:
            parts.append(f"{k}={v:.4g}")
    return " ".join(parts)
