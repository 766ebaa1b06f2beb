"""Up-front memory estimates: refuse work that cannot fit with one line, before the
allocator fails with a traceback (or the machine starts swapping)."""
from __future__ import annotations

import os
from typing import Optional

import torch

from .errors import ConfigError

GiB = float(1 << 30)


def available_bytes(device: Optional[torch.device] = None) -> Optional[int]:
    """Memory a new allocation can take now: free GPU memory for a CUDA device, else the
    kernel's MemAvailable (Linux), else total physical memory; None when unknown."""
    if device is not None and device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return None


def require_fits(need: float, what: str, hint: str, device: Optional[torch.device] = None) -> None:
    """ConfigError when ``need`` bytes exceed what is available (no check when unknown)."""
    have = available_bytes(device)
    if have is not None and need > have:
        raise ConfigError(f"{what} needs about {need / GiB:.1f} GiB, but only {have / GiB:.1f} GiB is available; {hint}")


#: bytes held per parameter while training: fp32 weights, gradients, two Adam moments, and
#: one copy more (the EMA copy, DDP buckets or an optimizer's scratch)
BYTES_PER_PARAM = 4 * 5


def count_parameters(build) -> int:
    """Parameters of the modules ``build()`` returns, counted on the meta device: nothing
    is allocated, so a model of any size can be measured."""
    with torch.device("meta"):
        mods = build()
    return sum(p.numel() for m in mods for p in m.parameters())
