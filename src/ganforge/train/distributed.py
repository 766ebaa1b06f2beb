"""Multi-process data-parallel training on torch.distributed.

One process per rank (started by ``torchrun`` or ``ganforge train --nproc K``). Every rank
builds the same models from the same seed; G and D are wrapped in
DistributedDataParallel (gloo on CPU, nccl on GPU), so their gradients, the gradient
penalty's included, are averaged over the ranks before each optimizer step. Each rank
draws ``batch_size / K`` samples per step from its own shard of the data with its own
random stream, so a K-process run takes the same steps as one process on the
concatenated batch. Batch norm statistics are synchronised across ranks too (torch's
SyncBatchNorm on GPU; :class:`SyncBatchNormCPU` on CPU, where torch has none), which
keeps that equality for generators with batch norm.

Only rank 0 writes files (metrics, samples, checkpoints) and evaluates; the scalars it
logs are means over all ranks. Decisions that must agree across ranks (stop, divergence
rollback) are synchronised once per step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn

from ..errors import ConfigError, RunError


def env_world_size() -> int:
    """World size announced by torchrun (1 when not launched by it)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


@dataclass
class DistContext:
    """This process's place in the job; all collectives go through it so that a
    single-process run (world 1) pays nothing."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False  #: whether we initialised the process group (and so tear it down)
    bn_group: Any = field(default=None, repr=False)  #: a separate group for batch-norm statistics

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # ------------------------------------------------------------------ set-up
    @classmethod
    def setup(cls, device: str = "auto") -> "DistContext":
        """Join the job torchrun started (env RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT),
        or return the single-process context."""
        if dist.is_available() and dist.is_initialized():
            ctx = cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
        else:
            world = env_world_size()
            if world <= 1:
                return cls()
            missing = [k for k in ("RANK", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
            if missing:
                raise RunError(f"WORLD_SIZE={world} but {', '.join(missing)} not set: launch with "
                               "torchrun or ganforge train --nproc K")
            use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
            # on GPUs the gradients go through nccl, while the small scalar collectives
            # (logged means, stop flags) use CPU tensors, which nccl cannot carry: one
            # process group with a backend per device type serves both
            backend = "cpu:gloo,cuda:nccl" if use_cuda else "gloo"
            local = int(os.environ.get("LOCAL_RANK", "0"))
            if use_cuda:
                torch.cuda.set_device(local)
            dist.init_process_group(backend)
            ctx = cls(dist.get_rank(), dist.get_world_size(), local, owns_group=True)
        if ctx.world > 1:
            ctx.bn_group = dist.new_group()
        return ctx

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False

    # ------------------------------------------------------------------ collectives
    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def _reduce(self, value: float, op) -> float:
        if not self.enabled:
            return float(value)
        t = torch.tensor([float(value)], dtype=torch.float64)
        dist.all_reduce(t, op=op)
        return float(t)

    def mean(self, value: float) -> float:
        """Mean of a scalar over the ranks."""
        return self._reduce(value, dist.ReduceOp.SUM) / self.world

    def min(self, value: float) -> float:
        """Smallest value of a scalar over the ranks."""
        return self._reduce(value, dist.ReduceOp.MIN)

    def reduce_means(self, stats: dict[str, torch.Tensor]) -> dict[str, float]:
        """Per-rank interval means -> means over ranks (``*_max`` keys: maxima)."""
        if not self.enabled:
            return {k: float(v) for k, v in stats.items()}
        keys = sorted(stats)
        out: dict[str, float] = {}
        for op, sel in ((dist.ReduceOp.SUM, [k for k in keys if not k.endswith("_max")]),
                        (dist.ReduceOp.MAX, [k for k in keys if k.endswith("_max")])):
            if not sel:
                continue
            t = torch.stack([stats[k].detach().double().cpu().reshape(()) for k in sel])
            dist.all_reduce(t, op=op)
            if op == dist.ReduceOp.SUM:
                t = t / self.world
            out.update(zip(sel, t.tolist(), strict=True))
        return out

    def any(self, *flags: bool) -> list[bool]:
        """Element-wise OR of boolean flags over the ranks."""
        if not self.enabled:
            return list(flags)
        t = torch.tensor([int(f) for f in flags], dtype=torch.int32)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return [bool(v) for v in t.tolist()]

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj`` (picklable), in rank order, on every rank."""
        if not self.enabled:
            return [obj]
        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    # ------------------------------------------------------------------ models
    def local_batch(self, n: int, what: str) -> int:
        """Per-rank share of a global batch size."""
        if n % self.world:
            raise ConfigError(f"{what}={n} must be divisible by the number of processes ({self.world})")
        return n // self.world

    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """DistributedDataParallel around ``module`` (the module itself when single-process)."""
        if not self.enabled:
            return module
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        # batch norm is synchronised by its own layers: no need to broadcast buffers
        return DDP(module, device_ids=ids, forward_sync_buffers=False)

    def sync_batchnorm(self, module: nn.Module, device: torch.device) -> nn.Module:
        """Batch norm layers whose statistics span all ranks."""
        if not self.enabled:
            return module
        if device.type == "cuda":
            return nn.SyncBatchNorm.convert_sync_batchnorm(module, self.bn_group)
        return SyncBatchNormCPU.convert(module, self.bn_group)


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks, differentiable: the gradient of a sum is the sum of the gradients."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, group: Any) -> torch.Tensor:  # type: ignore[override]
        ctx.group = group
        x = x.clone()
        dist.all_reduce(x, group=group)
        return x

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        grad = grad.clone()
        dist.all_reduce(grad, group=ctx.group)
        return grad, None


class SyncBatchNormCPU(nn.modules.batchnorm._BatchNorm):
    """Batch norm over the union of all ranks' batches, for CPU tensors (torch's
    SyncBatchNorm needs CUDA). Per-channel sums and sums of squares are all-reduced with
    a differentiable all_reduce, so gradients flow through the
    statistics exactly as in a single process holding the whole batch. Same parameters
    and buffers as BatchNorm1d/2d: checkpoints move freely between single- and
    multi-process runs."""

    def __init__(self, *args: Any, group: Any = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.group = group

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2-D input, got {x.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized()):
            return super().forward(x)
        dims = [0] + list(range(2, x.dim()))
        n_local = x.numel() // x.shape[1]
        xf = x.float()
        stats = torch.cat([xf.sum(dims), (xf * xf).sum(dims), xf.new_tensor([n_local])])
        stats = _AllReduceSum.apply(stats, self.group)
        c = x.shape[1]
        n = stats[-1]
        mean = stats[:c] / n
        var = (stats[c:2 * c] / n - mean * mean).clamp_min(0.0)
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                # momentum None: cumulative average, as in torch's batch norm
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(m * mean.detach())
                unbiased = var.detach() * (n / (n - 1).clamp_min(1))
                self.running_var.mul_(1 - m).add_(m * unbiased)
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)

    @classmethod
    def convert(cls, module: nn.Module, group: Any = None) -> nn.Module:
        """Replace every BatchNorm1d/2d/3d in ``module`` (recursively) by this class."""
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, cls):
            new = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, group=group)
            new.load_state_dict(module.state_dict())
            new.train(module.training)
            return new.to(next(iter(module.buffers()), torch.empty(0)).device)
        for name, child in module.named_children():
            setattr(module, name, cls.convert(child, group))
        return module



def launch(argv: list[str], nproc: int, timeout_kill: float = 60.0) -> int:
    """``ganforge train --nproc K ...``: start K worker processes of the same command on
    this machine with the environment torchrun would give them (RANK, LOCAL_RANK,
    WORLD_SIZE, MASTER_ADDR/PORT on a free local port) and wait for them. Each worker gets
    an equal share of the CPU threads unless OMP_NUM_THREADS is set. Ctrl-C / SIGTERM are
    passed to every worker once (each checkpoints and stops at the same step); if one
    worker fails the others are stopped. Returns the first non-zero exit status, 130
    after an interrupt, else 0."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(nproc),
               LOCAL_WORLD_SIZE=str(nproc))
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    # own sessions: a terminal's Ctrl-C reaches only this launcher, which passes it on once
    procs = [subprocess.Popen([sys.executable, "-m", "ganforge", *argv], start_new_session=True,
                              env=dict(env, RANK=str(r), LOCAL_RANK=str(r))) for r in range(nproc)]

    interrupted = []

    def forward(signum, frame):
        interrupted.append(signum)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    old = {sg: signal.signal(sg, forward) for sg in (signal.SIGINT, signal.SIGTERM)}
    failed_at = None
    try:
        while any(p.poll() is None for p in procs):
            bad = [p for p in procs if p.returncode not in (None, 0)]
            if bad and failed_at is None:  # one worker died: the rest would wait for it forever
                failed_at = time.monotonic()
                for p in procs:
                    if p.poll() is None:
                        p.terminate()
            if failed_at is not None and time.monotonic() - failed_at > timeout_kill:
                for p in procs:
                    if p.poll() is None:
                        p.kill()
            time.sleep(0.1)
    finally:
        for sg, h in old.items():
            signal.signal(sg, h)
    codes = [p.returncode for p in procs]
    first = next((c for c in codes if c), 0)
    # workers exit 0 when interrupted (a non-zero exit would read as a crash to torchrun)
    return 130 if interrupted and first == 0 else first


def strip_option(argv: list[str], name: str) -> list[str]:
    """``argv`` without ``name VALUE`` / ``name=VALUE``."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == name:
            skip = True
        elif not a.startswith(name + "="):
            out.append(a)
    return out
