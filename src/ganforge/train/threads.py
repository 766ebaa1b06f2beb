"""Thread count on a shared CPU.

torch's CPU kernels run on an OpenMP pool whose threads spin-wait at every barrier. On a
quiet machine, using every core is fastest; but when another busy process holds one of
the cores, each barrier waits for the thread that the OS has descheduled, and a run with
as many threads as cores falls to a fraction of its single-thread speed (measured in
docs/scale.md: the default run at 2 threads dropped 4x beside one busy process, while one
thread barely slowed). No fixed setting is good in both cases, and the load changes while
a run goes on, so the governor measures: it times windows of training steps with each
candidate thread count and keeps the faster, probing the other again every so often.

Thread counts may change the order of floating-point sums inside kernels, so a run with
the governor on is not bit-reproducible across machines loads; a fixed ``train.threads``
is (and the governor is then off).
"""
from __future__ import annotations

import math
import statistics
from typing import Optional

import torch

from .loop import Callback, Measure, Trainer


class ThreadGovernor(Callback):
    """Keeps the faster of ``candidates`` thread counts, by timing training steps.

    A *window* is at least ``min_steps`` steps and ``window_s`` seconds of training with one
    thread count; its cost is the median step time (log steps, which carry extra
    diagnostics, do not sway a median). The governor measures each candidate once and runs
    the faster. While it runs, it keeps timing windows, and measures the others again
    when the load has visibly changed or after a wait (see ``on_step``). Step times come
    from the trainer's training clock (``t.elapsed``), so evaluation and other excluded
    work never count.
    """

    order = 0  # first, so that its thread count holds for the other callbacks' work too

    def __init__(self, candidates: list[int], window_s: float = 0.5, min_steps: int = 6,
                 reprobe_s: float = 60.0, change: float = 1.4, warmup_steps: int = 10) -> None:
        self.candidates = sorted(set(max(1, c) for c in candidates))
        self.window_s, self.min_steps, self.reprobe_s, self.change = window_s, min_steps, reprobe_s, change
        # the first steps of a run (or of a resume) build kernels and caches and are slow
        # at any thread count: measuring them would favour whichever candidate came second
        self.warmup_steps = warmup_steps
        self.seen = 0
        # the first steps after a change of thread count pay for the change (the pool's
        # threads waking, kernels re-planned for the new count): not timed
        self.settle_steps = 3
        self.settle = 0
        self.strikes = 0  #: consecutive windows that say the load changed
        self.wait_s = reprobe_s  #: seconds until the next periodic probe
        self.probed_from: Optional[int] = None
        self.current = self.candidates[-1]
        # what to measure next, in order: the fewest threads first, which is never badly
        # slow (on a loaded machine many threads are, and so is warming up with them)
        self.queue: list[int] = list(self.candidates)
        self.results: dict[int, float] = {}
        self.times: list[float] = []
        self.chosen_at = 0.0
        self.last_elapsed: Optional[float] = None
        self.restore: Optional[int] = None
        self.switches = 0

    @property
    def active(self) -> bool:
        return len(self.candidates) > 1

    def on_start(self, t: Trainer) -> None:
        self.restore = torch.get_num_threads()
        self.last_elapsed = t.elapsed
        self.chosen_at = t.elapsed
        if self.active:
            self._set(self.queue[0])

    def _set(self, n: int) -> None:
        if n != torch.get_num_threads():
            torch.set_num_threads(n)
            self.switches += 1
        self.current = n
        self.times = []
        self.settle = self.settle_steps

    def on_step(self, t: Trainer, stats: dict[str, torch.Tensor]) -> Optional[list]:
        now = t.elapsed
        dt = now - (self.last_elapsed if self.last_elapsed is not None else now)
        self.last_elapsed = now
        self.seen += 1
        # logged (the governor runs before the metrics logger): which count ran this step
        said = [Measure("threads", torch.get_num_threads())] if self.active else None
        if not self.active or dt <= 0 or self.seen <= self.warmup_steps:
            return said
        self._adjust(now, dt)
        return said

    def _adjust(self, now: float, dt: float) -> None:
        """Time this step; move to another thread count when the measurements say so."""
        if self.settle > 0:
            self.settle -= 1
            return
        self.times.append(dt)
        # a probe already clearly slower than the best setting measured (its steps so far
        # took 1.5x as long as the same number of that setting's): stop paying for it now
        known = [v for c, v in self.results.items() if c != self.current]
        losing = (bool(self.queue) and bool(known) and len(self.times) >= 2
                  and sum(self.times) > 1.5 * len(self.times) * min(known))
        if not losing and (len(self.times) < self.min_steps or sum(self.times) < self.window_s):
            return
        m = statistics.median(self.times)
        self.times = []
        if self.queue:  # measuring the candidates one after the other
            self.results[self.queue.pop(0)] = m
            if self.queue:
                self._set(self.queue[0])
            else:
                best = min(self.results, key=self.results.__getitem__)
                # back off when the probe changed nothing; start again from reprobe_s when it did
                self.wait_s = min(self.wait_s * 2, 16 * self.reprobe_s) if best == self.probed_from else self.reprobe_s
                self._set(best)
                self.chosen_at = now
            return
        # running the choice. Measure the others again when this setting is now slower
        # than another one was when last measured (load arrived), when it became ``change``x
        # faster (load left: another setting may be faster still), or after ``reprobe_s``
        # seconds; that wait doubles each time a probe keeps the same choice, so a steady
        # machine pays for probing less and less. This window already measured the current
        # setting under the load of now.
        ref = self.results.get(self.current, m)
        others = [c for c in self.candidates if c != self.current]
        best_other = min((self.results[c] for c in others if c in self.results), default=math.inf)
        # a changed load must show in two windows running: one noisy window (a slow log
        # step, the OS) must not send the run to measure the slower setting again
        changed = m > best_other * 1.1 or m < ref / self.change
        self.strikes = self.strikes + 1 if changed else 0
        if self.strikes >= 2 or now - self.chosen_at >= self.wait_s:
            self.strikes = 0
            self.results = {self.current: m}
            self.queue = others
            self.probed_from = self.current
            self._set(self.queue[0])

    def on_end(self, t: Trainer) -> None:
        if self.restore is not None and self.active:
            torch.set_num_threads(self.restore)


def auto_candidates(threads: int) -> list[int]:
    """Candidate thread counts for ``train.threads`` (0: auto between one thread and
    torch's default for this process, which a launcher may have lowered to its share)."""
    if threads:
        return [threads]
    return [1, torch.get_num_threads()]
