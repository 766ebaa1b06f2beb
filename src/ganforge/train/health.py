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
    * critic lost (logit losses only, see :meth:`set_loss`): for ``flat_steps`` generator
      steps in a row, mean D(real) and mean D(fake) within ``flat_gap`` of each other while
      G's gradient norm stays below ``flat_g_ratio`` of its largest so far. D no longer
      tells real from fake and G gets no signal; such runs did not recover (StackedMNIST at
      Adam 5e-4: G drew colour noise for the 5,000 steps that followed). Either condition
      alone is normal: a toy run that has matched its data sits at D(real) = D(fake) with
      a growing G gradient;
    * coverage (:meth:`check_coverage`, fed by evaluations: toy modes covered, classes
      hit, recall): a warning when it falls below its best so far, and when it stays
      short of complete without improving for ``stall_evals`` evaluations.
    """

    def __init__(self, max_logit: float = 1e4, runaway_factor: float = 10.0, window: int = 20,
                 collapse_ratio: float = 0.25, stall_evals: int = 5, recall_drop: float = 0.1,
                 flat_gap: float = 0.02, flat_g_ratio: float = 0.05, flat_steps: int = 500) -> None:
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
        self.flat_gap, self.flat_g_ratio, self.flat_steps = flat_gap, flat_g_ratio, flat_steps
        self.logit_critic = False  #: the critic check applies (set by set_loss)
        self.g_norm_max = 0.0  #: G's largest logged gradient norm
        self.flat_since: Optional[int] = None  #: first step of the current flat stretch
        self.flat_warned = False  #: warned, and the critic has not recovered since
        self.ok_since: Optional[int] = None  #: first step of the current stretch of a working critic

    def set_loss(self, wasserstein: bool) -> None:
        """The critic check reads D's outputs as logits: a Wasserstein critic's difference
        is a distance estimate that rightly goes to 0 as G matches the data."""
        self.logit_critic = not wasserstein

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
        out += self._check_critic(rec)
        return out

    def _check_critic(self, rec: dict[str, Any]) -> list[str]:
        """The critic-lost check on one record (see the class docstring)."""
        real, fake, gn, step = rec.get("d_real"), rec.get("d_fake"), rec.get("grad_norm_g"), rec.get("step")
        if not self.logit_critic or real is None or fake is None or gn is None or step is None:
            return []
        self.g_norm_max = max(self.g_norm_max, float(gn))
        if abs(real - fake) >= self.flat_gap or gn >= self.flat_g_ratio * self.g_norm_max:
            self.flat_since = None
            # one warning per loss of the critic: a blip of separation does not re-arm it,
            # only a recovery that lasts as long as the stretch that warned
            self.ok_since = int(step) if self.ok_since is None else self.ok_since
            if self.flat_warned and step - self.ok_since >= self.flat_steps:
                self.flat_warned = False
            return []
        self.ok_since = None
        if self.flat_since is None:
            self.flat_since = int(step)
        if self.flat_warned or step - self.flat_since < self.flat_steps:
            return []
        self.flat_warned = True
        return [f"critic lost: D(real) - D(fake) = {real - fake:.2g} and G's gradient norm {gn:.2g} "
                f"({gn / self.g_norm_max:.1%} of its largest) since step {self.flat_since}; D no longer "
                f"tells real from fake, so G learns nothing. Lower the learning rates or warm them up "
                f"(optim.g.warmup, optim.d.warmup)"]

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
                "coverage_since": dict(self.coverage_since), "coverage_warned": dict(self.coverage_warned),
                "critic": {"g_norm_max": self.g_norm_max, "flat_since": self.flat_since, "flat_warned": self.flat_warned,
                           "ok_since": self.ok_since}}

    def load_state_dict(self, s: dict) -> None:
        self.history.extend(s.get("history", []))
        self.coverage_best = dict(s.get("coverage_best", {}))
        self.coverage_since = dict(s.get("coverage_since", {}))
        self.coverage_warned = dict(s.get("coverage_warned", {}))
        c = s.get("critic", {})
        self.g_norm_max = float(c.get("g_norm_max", 0.0))
        self.flat_since, self.flat_warned = c.get("flat_since"), bool(c.get("flat_warned", False))
        self.ok_since = c.get("ok_since")
