"""The thread governor against a simulated machine: step times that depend on the thread
count and on a load that comes and goes (no wall clock involved)."""
import random

import torch

from ganforge.train.loop import Measure
from ganforge.train.threads import ThreadGovernor, auto_candidates


class FakeTrainer:
    elapsed = 0.0


def simulate(phases, seed=0):
    """phases: list of (steps, {threads: seconds per step}); returns the thread count per step."""
    g = ThreadGovernor([1, 2])
    t = FakeTrainer()
    rng = random.Random(seed)
    before = torch.get_num_threads()
    g.on_start(t)
    out = []
    try:
        for steps, cost in phases:
            for _ in range(steps):
                stats = {}
                ran = torch.get_num_threads()
                assert ran == g.current
                t.elapsed += cost[ran] * rng.uniform(0.7, 1.5)  # noisy steps
                asked = g.on_step(t, stats)
                out.append(ran)
                assert stats == {}  # the governor asks; it never writes into the step's stats
                assert asked == [Measure("threads", ran)]  # logged: the count this step ran with
    finally:
        g.on_end(t)
    assert torch.get_num_threads() == before  # restored for whoever runs next in this process
    return out


QUIET = {1: 0.040, 2: 0.028}  # two threads faster on an idle machine
BUSY = {1: 0.045, 2: 0.160}  # beside another busy process two threads spin-wait


def test_picks_all_threads_on_a_quiet_machine():
    hist = simulate([(1500, QUIET)])
    assert hist[100:].count(2) / len(hist[100:]) > 0.9


def test_backs_off_to_one_thread_when_load_arrives_and_returns_when_it_leaves():
    hist = simulate([(1000, QUIET), (3000, BUSY), (4000, QUIET)])
    busy = hist[1200:4000]
    assert busy.count(1) / len(busy) > 0.95  # within ~200 steps of the load arriving
    after = hist[6000:]
    assert after.count(2) / len(after) > 0.8  # periodic probes find the freed core again


def test_never_warms_up_or_lingers_on_the_slow_setting_under_load():
    hist = simulate([(600, BUSY)])
    assert hist[:60].count(2) <= 6  # the fewest threads first; a losing probe is cut short


def test_fixed_threads_disable_the_governor():
    assert auto_candidates(3) == [3]
    assert auto_candidates(0) == [1, torch.get_num_threads()]
    g = ThreadGovernor([2])
    assert not g.active


def test_a_short_quiet_run_settles_on_all_threads_at_once():
    # the first probe must not be abandoned for taking longer in total than a shorter
    # window of the other setting: 500 steps, no periodic re-probe in between
    hist = simulate([(500, QUIET)], seed=3)
    assert hist[60:].count(2) == len(hist[60:])
