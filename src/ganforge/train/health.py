"""Training health: divergence and mode-collapse detection from the logged metrics."""
from __future__ import annotations

import math
from collections import deque
from statistics import median
from typing import Any, Optional

import torch


def mean_pairwise_distance(x: torch.Tensor, max_n: int = 256) -> float:
    """Mean L2 distance between distinct examples (a diversity measure)."""
    x = x[:max_n].flatten(1).float()
    n = x.shape[0]
    if n < 2:
        return 0.0
    d = torch.cdist(x, x)
    return float(d.sum() / (n * (n - 1)))


class HealthMonitor:
    """Looks at each logged record and returns warnings; ``failed`` says the run is lost.

    * non-finite losses: failed at once;
    * critic output exploding: mean |D| above ``max_logit`` (treated like non-finite values);
    * Wasserstein estimate running away: above ``runaway_factor`` times the median of the
      last ``window`` logged estimates (and above 1);
    * mode collapse: the fixed-latent samples' mean pairwise distance below
      ``collapse_ratio`` times the real data's;
    * coverage (:meth:`check_coverage`, fed by evaluations: toy modes covered, classes
      hit, recall): a warning when it falls below its best so far, and when it stays
      short of complete without improving for ``stall_evals`` evaluations.
    """

    def __init__(self, max_logit: float = 1e4, runaway_factor: float = 10.0, window: int = 20,
                 collapse_ratio: float = 0.25, stall_evals: int = 5, recall_drop: float = 0.1) -> None:
        self.max_logit = max_logit
        self.runaway_factor = runaway_factor
        self.collapse_ratio = collapse_ratio
        self.history: deque[float] = deque(maxlen=window)
        self.real_diversity: Optional[float] = None
        self.collapse_after = 0  #: an untrained G is not collapsed: skip the check before this step
        self.failed: Optional[str] = None  #: set when the run is judged lost
        self.fatal = False  #: non-finite values: nothing sensible can follow
        self.stall_evals, self.recall_drop = stall_evals, recall_drop
        self.coverage_best: dict[str, float] = {}  #: best value of each coverage measure so far
        self.coverage_since: dict[str, int] = {}  #: evaluations since that best improved
        self.coverage_warned: dict[str, str] = {}  #: the last warning per measure (warn on change only)

    def calibrate(self, real: torch.Tensor, iters: int) -> None:
        """Image runs: the real data's spread, against which a collapsing G is measured;
        no collapse verdict in the first tenth of the run."""
        g = torch.Generator().manual_seed(0)
        idx = torch.randperm(len(real), generator=g)[:256]
        self.real_diversity = mean_pairwise_distance(real[idx])
        self.collapse_after = max(1, iters // 10)

    def check_record(self, rec: dict[str, Any]) -> list[str]:
        out: list[str] = []
        for k in ("loss_d", "loss_g"):
            v = rec.get(k)
            if v is not None and not math.isfinite(v):
                self.failed = f"{k} is {v} at step {rec['step']}"
                self.fatal = True
                out.append(f"diverged: {self.failed}")
                return out
        big = max(abs(rec.get("d_real", 0.0)), abs(rec.get("d_fake", 0.0)))
        if big > self.max_logit:
            out.append(f"critic output exploding (|D| = {big:.3g} > {self.max_logit:g})")
            self.failed = self.failed or out[-1]
            self.fatal = True  # weights this far gone do not come back: roll back or stop
        w = rec.get("wasserstein")
        if w is not None and math.isfinite(w):
            if len(self.history) >= 5:
                ref = median(self.history)
                if w > 1.0 and ref > 0 and w > self.runaway_factor * ref:
                    out.append(f"Wasserstein estimate running away ({w:.3g} vs recent median {ref:.3g})")
            self.history.append(w)
        return out

    def check_samples(self, fake: torch.Tensor, step: int) -> tuple[Optional[float], list[str]]:
        if not self.real_diversity:
            return None, []
        ratio = mean_pairwise_distance(fake) / self.real_diversity
        if step >= self.collapse_after and ratio < self.collapse_ratio:
            return ratio, [f"possible mode collapse: sample diversity is {ratio:.2f} of the real data's"]
        return ratio, []

    #: coverage measures: record key -> (key of its complete value or None, absolute drop that counts)
    COVERAGE = {"modes_covered": ("modes_total", 1.0), "classes_hit": (None, 1.0), "recall": (None, None)}

    def check_coverage(self, rec: dict[str, Any], classes: int = 0) -> list[str]:
        """Warnings from one evaluation record: coverage falling or stalled."""
        out: list[str] = []
        for key, (total_key, drop) in self.COVERAGE.items():
            v = rec.get(key)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                continue
            total = rec.get(total_key) if total_key else (classes if key == "classes_hit" else 1.0)
            drop = drop if drop is not None else self.recall_drop
            best = self.coverage_best.get(key)
            if best is None or v > best:
                self.coverage_best[key], self.coverage_since[key] = float(v), 0
                self.coverage_warned.pop(key, None)
                continue
            self.coverage_since[key] += 1
            label = {"modes_covered": "modes covered", "classes_hit": "classes generated", "recall": "recall"}[key]
            shown = f"{v:g}" + (f"/{total:g}" if total_key or key == "classes_hit" else "")
            msg = None
            if best - v >= drop:
                msg = f"coverage falling: {label} {shown}, down from {best:g} (modes being dropped)"
            elif total and v < total and self.coverage_since[key] >= self.stall_evals:
                msg = (f"coverage stalled: {label} {shown} for the last {self.coverage_since[key]} evaluations "
                       f"(best {best:g}); the run is not finding the missing modes")
            if msg and self.coverage_warned.get(key, "").split(":")[0] != msg.split(":")[0]:
                self.coverage_warned[key] = msg
                out.append(msg)
        return out

    def state_dict(self) -> dict:
        return {"history": list(self.history), "coverage_best": dict(self.coverage_best),
                "coverage_since": dict(self.coverage_since), "coverage_warned": dict(self.coverage_warned)}

    def load_state_dict(self, s: dict) -> None:
        self.history.extend(s.get("history", []))
        self.coverage_best = dict(s.get("coverage_best", {}))
        self.coverage_since = dict(s.get("coverage_since", {}))
        self.coverage_warned = dict(s.get("coverage_warned", {}))
