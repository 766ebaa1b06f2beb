"""The dataset value every source returns, and the registry of sources."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

import torch
import torch.nn.functional as F

from ..registry import Registry

if TYPE_CHECKING:
    from ..config import DataConfig


@dataclass
class Dataset:
    """Training data held in memory, scaled to [-1, 1].

    ``x`` is (N, C, H, W) for images or (N, 2) for toy points; ``y`` holds integer
    labels when the source has them. ``info`` carries source facts that metrics need
    (toy mode centres and spread, for example).
    """

    name: str
    x: torch.Tensor
    y: Optional[torch.Tensor] = None
    num_classes: int = 0
    info: dict = field(default_factory=dict)
    holdout_x: Optional[torch.Tensor] = None
    holdout_y: Optional[torch.Tensor] = None
    stream: Optional[object] = None  #: batches from disk (``stream.batch(n)``) when the data does not fit

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one example."""
        return tuple(self.x.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.x.dim() == 4

    def __len__(self) -> int:
        return self.x.shape[0]


Loader = Callable[["DataConfig"], Dataset]
DATASETS: Registry[Loader] = Registry("dataset")


def resize(x: torch.Tensor, size: Optional[int]) -> torch.Tensor:
    """Resize (N, C, H, W) images in [-1, 1] to ``size`` px (bilinear, antialiased)."""
    if size is None or x.shape[-1] == size:
        return x
    out = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                        antialias=x.shape[-1] > size)
    return out.clamp_(-1.0, 1.0)


def split_holdout(ds: Dataset, holdout: int, seed: int, limit: Optional[int]) -> Dataset:
    """Move a fixed, seeded random ``holdout`` of examples out of training; then apply ``limit``."""
    from ..errors import ConfigError

    n = len(ds)
    if holdout >= n:
        raise ConfigError(f"data.holdout ({holdout}) must be smaller than the dataset ({n} examples)")
    if holdout:
        g = torch.Generator().manual_seed(seed)
        perm = torch.randperm(n, generator=g)
        hold, keep = perm[:holdout], perm[holdout:]
        ds.holdout_x, ds.x = ds.x[hold], ds.x[keep]
        if ds.y is not None:
            ds.holdout_y, ds.y = ds.y[hold], ds.y[keep]
    if limit is not None:
        ds.x = ds.x[:limit]
        if ds.y is not None:
            ds.y = ds.y[:limit]
    return ds
