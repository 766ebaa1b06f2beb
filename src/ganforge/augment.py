"""Differentiable augmentation of the discriminator's inputs (DiffAugment, Zhao et al.
2020; ADA, Karras et al. 2020).

Every D input, real and fake, goes through the same random transformations, and the
transformations are differentiable, so the generator's gradient flows through them: D
never sees an un-augmented image and so cannot teach G to produce augmented ones (the
augmentations "do not leak"), while it can no longer memorise a small training set.

Each op is applied to each sample independently with probability ``p``, with its own
random parameters. ``p`` is fixed, or adapted by :class:`AdaController` from the
overfitting signal r = E[sign D(x_real)]. Random numbers come from the trainer's batch
source, so a resumed run draws the same augmentations.

A new op is one function ``op(x, u, cfg) -> x`` registered in ``AUGMENTS``, where ``u``
gives U[0, 1) noise of a requested shape.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch

from .config import AugmentConfig
from .errors import ConfigError
from .registry import Registry, check_choice

Tensor = torch.Tensor
Uniform = Callable[[tuple[int, ...]], Tensor]
AUGMENTS: Registry[Callable[[Tensor, Uniform, AugmentConfig], Tensor]] = Registry("augmentation")


@AUGMENTS.register("brightness")
def brightness(x: Tensor, u: Uniform, cfg: AugmentConfig) -> Tensor:
    """Add one offset in [-0.5, 0.5) to every pixel of a sample."""
    return x + (u((x.shape[0], 1, 1, 1)) - 0.5)


@AUGMENTS.register("saturation")
def saturation(x: Tensor, u: Uniform, cfg: AugmentConfig) -> Tensor:
    """Scale each pixel's distance from its channel mean by a factor in [0, 2) (grey images: unchanged)."""
    m = x.mean(dim=1, keepdim=True)
    return (x - m) * (u((x.shape[0], 1, 1, 1)) * 2) + m


@AUGMENTS.register("contrast")
def contrast(x: Tensor, u: Uniform, cfg: AugmentConfig) -> Tensor:
    """Scale each sample's distance from its mean by a factor in [0.5, 1.5)."""
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - m) * (u((x.shape[0], 1, 1, 1)) + 0.5) + m


@AUGMENTS.register("translation", help="shift by whole pixels, at most augment.translation of the side, zero-filled")
def translation(x: Tensor, u: Uniform, cfg: AugmentConfig) -> Tensor:
    """Shift by whole pixels, at most ``cfg.translation`` of the side each way; the
    uncovered border is 0 (mid-grey in [-1, 1]). A gather, so gradients flow to x."""
    n, c, h, w = x.shape
    sh, sw = int(h * cfg.translation + 0.5), int(w * cfg.translation + 0.5)
    dy = (u((n, 1, 1)) * (2 * sh + 1)).floor().long() - sh
    dx = (u((n, 1, 1)) * (2 * sw + 1)).floor().long() - sw
    gy = torch.arange(h, device=x.device).view(1, h, 1) - dy  # source row of each target row
    gx = torch.arange(w, device=x.device).view(1, 1, w) - dx
    valid = ((gy >= 0) & (gy < h) & (gx >= 0) & (gx < w)).unsqueeze(1)
    idx = (gy.clamp(0, h - 1) * w + gx.clamp(0, w - 1)).view(n, 1, h * w).expand(n, c, h * w)
    out = x.reshape(n, c, h * w).gather(2, idx).view(n, c, h, w)
    return out * valid.to(x.dtype)


@AUGMENTS.register("cutout")
def cutout(x: Tensor, u: Uniform, cfg: AugmentConfig) -> Tensor:
    """Set a square of side ``cfg.cutout`` x the side, at a random centre, to 0."""
    n, _, h, w = x.shape
    ch, cw = max(1, int(h * cfg.cutout + 0.5)), max(1, int(w * cfg.cutout + 0.5))
    cy = (u((n, 1, 1)) * (h + 1 - ch % 2)).floor()
    cx = (u((n, 1, 1)) * (w + 1 - cw % 2)).floor()
    ys = torch.arange(h, device=x.device).view(1, h, 1).to(x.dtype)
    xs = torch.arange(w, device=x.device).view(1, 1, w).to(x.dtype)
    top, left = cy - ch // 2, cx - cw // 2  # the square may reach past the border (then clipped)
    inside = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


#: names that stand for several ops, in DiffAugment's order
GROUPS = {"color": ["brightness", "saturation", "contrast"]}


def expand_ops(ops: list[str]) -> list[str]:
    """Op names with groups (``color``) expanded; ConfigError for an unknown name."""
    out: list[str] = []
    for name in ops:
        if name in GROUPS:
            out += GROUPS[name]
        else:
            check_choice("augment.ops", name, AUGMENTS.names() + sorted(GROUPS))
            out.append(name)
    return out


class Augment:
    """The augmentation pipeline of a run: ``augment(x, rng)`` returns x transformed
    (per sample, each op with probability ``p``); differentiable in x."""

    def __init__(self, cfg: AugmentConfig, is_image: bool) -> None:
        self.cfg = cfg
        self.ops = expand_ops(cfg.ops)
        if self.ops and not is_image:
            raise ConfigError("augment.ops works on images; this data is points (set augment.ops=[])")
        self.p = cfg.p
        self.ada: Optional[AdaController] = AdaController(cfg) if cfg.adaptive and self.ops else None

    @property
    def enabled(self) -> bool:
        return bool(self.ops)

    def __call__(self, x: Tensor, rng) -> Tensor:
        # the probability in force: ADA's current p when adaptive (cfg.p is only its start)
        if self.ada is not None and self.ada.deferred:
            return self._apply(x, rng, self.ada.p_on(x.device))
        p = self.ada.p if self.ada is not None else self.p
        if not self.ops or p <= 0:
            return x
        return self._apply(x, rng, p)

    def _apply(self, x: Tensor, rng, p) -> Tensor:
        """The ops at probability ``p``: a number (known on the host: p = 1 takes every op
        without drawing) or a tensor on the device (ADA without host reads: always drawn)."""
        def u(shape: tuple[int, ...]) -> Tensor:
            return rng.uniform(shape, x)

        for name in self.ops:
            y = AUGMENTS.get(name)(x, u, self.cfg)
            if not isinstance(p, Tensor) and p >= 1.0:
                x = y
            else:  # each sample takes the op with probability p
                keep = (u((x.shape[0], 1, 1, 1)) < p).to(x.dtype)
                x = keep * y + (1 - keep) * x
        return x

    def defer(self) -> None:
        """Keep ADA's p on the device from now on: no host read per interval (GPU steps)."""
        if self.ada is not None:
            self.ada.deferred = True

    def state_dict(self) -> dict:
        return self.ada.state_dict() if self.ada is not None else {}

    def load_state_dict(self, s: dict) -> None:
        if self.ada is not None and s:
            self.ada.load_state_dict(s)


class AdaController:
    """ADA's controller (Karras et al. 2020): every ``interval`` critic steps, r = E[sign
    D(x_real)] over those steps is compared with ``target``; p moves by
    sign(r - target) x (real images seen in the interval) / ``speed_img``, clamped to
    [0, 1]. D too sure of the reals (r above target: overfitting) raises p."""

    def __init__(self, cfg: AugmentConfig) -> None:
        self.cfg = cfg
        self.p: float | Tensor = cfg.p
        self.sum_sign: float | Tensor = 0.0
        self.count = 0
        self.steps = 0
        self.updates = 0  #: intervals closed so far (a host count: known without reading p)
        self.last_r: float | Tensor = float("nan")
        #: p, r and the sign sum stay tensors on the device and are never read back during
        #: training: the same arithmetic in float64 on the device as in Python floats on the host
        self.deferred = False

    def p_on(self, device: torch.device) -> Tensor:
        """p as a float64 tensor on ``device`` (deferred mode)."""
        if not isinstance(self.p, Tensor) or self.p.device != device:
            self.p = torch.as_tensor(self.p, dtype=torch.float64).to(device)
        return self.p

    def observe(self, d_real: Tensor) -> None:
        """Record one critic step's outputs on the (augmented) real batch."""
        # summed on the device: one host sync per interval (none when deferred)
        self.sum_sign = self.sum_sign + torch.sign(d_real.detach()).sum()
        self.count += d_real.numel()
        self.steps += 1
        if self.steps < self.cfg.interval:
            return
        step = self.count / self.cfg.speed_img
        if self.deferred:
            r = self.sum_sign.double() / max(self.count, 1)
            self.p = (self.p_on(d_real.device) + torch.sign(r - self.cfg.target) * step).clamp(0.0, 1.0)
            self.last_r = r
        else:
            self.last_r = float(self.sum_sign) / max(self.count, 1)
            sign = (self.last_r > self.cfg.target) - (self.last_r < self.cfg.target)
            self.p = min(1.0, max(0.0, self.p + sign * step))
        self.sum_sign, self.count, self.steps = 0.0, 0, 0
        self.updates += 1

    def state_dict(self) -> dict:
        return {"p": float(self.p), "sum_sign": float(self.sum_sign), "count": self.count, "steps": self.steps,
                "last_r": float(self.last_r), "updates": self.updates}

    def load_state_dict(self, s: dict) -> None:
        self.p, self.sum_sign = float(s["p"]), float(s["sum_sign"])
        self.count, self.steps, self.last_r = int(s["count"]), int(s["steps"]), float(s["last_r"])
        self.updates = int(s.get("updates", 0 if s["last_r"] != s["last_r"] else 1))
