"""Every random draw a training step makes: real batches, labels for generated samples,
latents and penalty noise, from one torch.Generator per process.

Keeping them on a generator of their own (not torch's global one) is what makes a run
resumable bit for bit (the generator state goes into each checkpoint), gives each rank of
a distributed run an independent stream over its own shard of the data, and lets a
single process replay a K-process run exactly (:class:`ConcatSource`).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import torch

from ..models import sample_latent


def rank_seed(seed: int, rank: int) -> int:
    """Seed of rank ``rank``'s stream (distinct per rank, stable across runs)."""
    return (int(seed) * 1_000_003 + 7907 * (rank + 1)) % (2 ** 63)


class BatchSource:
    """Draws of one process. ``x``/``y`` are this process's shard of the data (``y`` only
    for conditional runs); ``stream`` replaces ``x`` for image folders read from disk."""

    def __init__(self, x: Optional[torch.Tensor], y: Optional[torch.Tensor], device: torch.device, seed: int,
                 z_dim: int, latent: str, stream: Any = None,
                 memory_format: Optional[torch.memory_format] = None) -> None:
        self.x, self.y, self.stream = x, y, stream
        self.device, self.z_dim, self.latent_kind = device, z_dim, latent
        self.memory_format = memory_format
        self.gen = torch.Generator(device=device).manual_seed(seed)

    def real(self, n: int) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """``n`` real samples drawn with replacement (and their labels when conditional)."""
        if self.stream is not None:  # streamed from disk: its DataLoader has its own order
            x, y = self.stream.batch(n, self.device)
            x = x.contiguous(memory_format=self.memory_format) if self.memory_format else x
            return x, (y if self.y is not None else None)  # labels only for a conditional run
        idx = torch.randint(0, self.x.shape[0], (n,), device=self.device, generator=self.gen)
        return self.x[idx], (self.y[idx] if self.y is not None else None)

    def labels(self, n: int) -> Optional[torch.Tensor]:
        """Labels for ``n`` generated samples, drawn from the data's label distribution."""
        if self.y is None:
            return None
        return self.y[torch.randint(0, self.y.shape[0], (n,), device=self.device, generator=self.gen)]

    def latent(self, n: int) -> torch.Tensor:
        return sample_latent(n, self.z_dim, self.latent_kind, self.device, generator=self.gen)

    def uniform(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """U[0, 1) noise of ``shape`` (penalty interpolation and perturbation)."""
        return torch.rand(shape, device=like.device, dtype=like.dtype, generator=self.gen)

    def state_dict(self) -> dict[str, Any]:
        return {"gen": self.gen.get_state(), "device": self.device.type}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        # a CPU and a CUDA generator keep states of different kinds: a run trained on a GPU
        # and loaded on a CPU (to sample, evaluate, or resume) keeps this source's fresh
        # seeded stream instead. Only the draws after the resume differ from the run's own.
        saved = s.get("device", "cpu" if s["gen"].numel() > 16 else "cuda")
        if saved == self.device.type:
            self.gen.set_state(s["gen"])


class ConcatSource:
    """K sources drawing as one: each draw of n rows takes n/K rows from each source, in
    order. A single process with the K ranks' sources replays a K-process run (the
    distributed tests compare against exactly that)."""

    def __init__(self, sources: Sequence[BatchSource]) -> None:
        self.sources = list(sources)

    def _split(self, n: int) -> int:
        k = len(self.sources)
        if n % k:
            raise ValueError(f"batch of {n} does not split over {k} sources")
        return n // k

    def real(self, n: int) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        m = self._split(n)
        parts = [s.real(m) for s in self.sources]
        ys = [p[1] for p in parts]
        return torch.cat([p[0] for p in parts]), (torch.cat(ys) if ys[0] is not None else None)

    def labels(self, n: int) -> Optional[torch.Tensor]:
        m = self._split(n)
        parts = [s.labels(m) for s in self.sources]
        return torch.cat(parts) if parts[0] is not None else None

    def latent(self, n: int) -> torch.Tensor:
        m = self._split(n)
        return torch.cat([s.latent(m) for s in self.sources])

    def uniform(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        m = self._split(shape[0])
        return torch.cat([s.uniform((m,) + tuple(shape[1:]), like) for s in self.sources])

    def state_dict(self) -> dict[str, Any]:
        return {"sources": [s.state_dict() for s in self.sources]}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        for src, st in zip(self.sources, s["sources"], strict=True):
            src.load_state_dict(st)
