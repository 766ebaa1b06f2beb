"""Metrics: FID, KID, precision/recall, density/coverage, classifier mode coverage, toy metrics."""
from .evaluate import evaluate_samples
from .features import EXTRACTORS
from .fid import fid_from_features, frechet_distance, kid_from_features
from .prdc import prdc
from .toy import exact_w1, mode_metrics

__all__ = ["evaluate_samples", "EXTRACTORS", "fid_from_features", "frechet_distance", "kid_from_features",
           "prdc", "exact_w1", "mode_metrics"]
