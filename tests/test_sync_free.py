"""The step without host reads (issue 25): on a GPU, reading a device value on the host
(``float(t)``, ``t.item()``, ``bool(t)``, ...) waits for the queue to drain, so a step
that does it once leaves the card idle for the rest. These tests run on the CPU: they
record every such read that ganforge's own code makes during a step, check that a step in
deferred mode (what a GPU step does) makes none, and that it trains to the same weights as
the step that reads (bit for bit where the draws are the same)."""
from __future__ import annotations

import contextlib
import copy
import traceback
from pathlib import Path

import pytest
import torch

from ganforge.data import load_dataset
from ganforge.optim import EMA
from ganforge.resolve import resolve
from ganforge.train.loop import Trainer

SRC = str(Path(__file__).resolve().parents[1] / "src" / "ganforge")
READS = ("item", "__float__", "__bool__", "__int__", "__index__", "tolist", "numpy", "cpu")


@contextlib.contextmanager
def host_reads():
    """Every read of a tensor's value on the host made directly by ganforge's code:
    yields a list of (method, file, line). torch's own reads are not counted (its
    optimizers keep their step counters on the host unless capturable)."""
    seen: list[tuple[str, str, int]] = []
    saved = {n: getattr(torch.Tensor, n) for n in READS}

    def wrap(name, orig):
        def f(self, *a, **k):
            caller = traceback.extract_stack(limit=2)[0]
            if caller.filename.startswith(SRC):
                seen.append((name, caller.filename[len(SRC) + 1:], caller.lineno))
            return orig(self, *a, **k)
        return f

    for n, orig in saved.items():
        setattr(torch.Tensor, n, wrap(n, orig))
    try:
        yield seen
    finally:
        for n, orig in saved.items():
            setattr(torch.Tensor, n, orig)


def _trainer(preset, tmp_path, overrides=()):
    over = ["train.device=cpu", "train.threads=1", "train.log_every=1000", "train.tensorboard=false",
            f"out={tmp_path / 'run'}", *overrides]
    cfg = resolve(preset=preset, overrides=over).config
    return Trainer(cfg, load_dataset(cfg.data), [])


#: the presets whose GPU speed the issue measures, shrunk to test size, on small image data
CASES = {
    "wgan-gp-mlp": (None, ["data.name=toy", "loss.name=wasserstein", "penalty.name=gp", "train.n_critic=5",
                           "model.g_hidden=[32,32]", "model.d_hidden=[32,32]", "train.batch_size=32"]),
    "r3gan-mlp (R1+R2, ADA, EMA)": ("r3gan-mlp-mnist", ["data.name=digits", "model.g_hidden=[32,32]",
                                                      "model.d_hidden=[32,32]", "train.batch_size=16"]),
    "dcgan": ("dcgan-mnist", ["data.name=digits", "data.size=16", "model.width=8", "train.batch_size=16"]),
    "r3gan-upconv (R1+R2, ADA, EMA)": ("r3gan-mnist", ["data.name=digits", "data.size=16", "model.name=upconv",
                                                     "model.width=8", "train.batch_size=16"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_deferred_step_reads_nothing_on_the_host(case, tmp_path):
    preset, over = CASES[case]
    t = _trainer(preset, tmp_path, over)
    t.stepper.defer_host_reads()
    assert t.stepper.host_read_reasons() == []
    for i in range(2):
        t.stepper.run(i, 1000)
    with host_reads() as seen:
        for i in range(2, 12):  # 10 steps, none a log step; ADA closes intervals in them
            t.stepper.run(i, 1000)
    assert seen == []


def test_the_detector_sees_a_read_and_the_reading_step_still_reads(tmp_path):
    preset, over = CASES["r3gan-mlp (R1+R2, ADA, EMA)"]
    t = _trainer(preset, tmp_path, over)  # on the CPU: host reads allowed (they cost nothing)
    with host_reads() as seen:
        for i in range(12):
            t.stepper.run(i, 1000)
    assert any(f == "augment.py" for _, f, _ in seen)  # ADA's p, read once per interval


IVGP = ["data.name=digits", "model.g_hidden=[16]", "model.d_hidden=[16]", "train.batch_size=16"]


def test_the_pi_schedule_says_why_its_step_reads(tmp_path):
    t = _trainer("ivgp-mnist", tmp_path, IVGP + ["penalty.schedule=pi"])
    t.stepper.defer_host_reads()
    assert any("penalty.schedule=pi" in r for r in t.stepper.host_read_reasons())


@pytest.mark.parametrize("reference", ["max", "initial"])
def test_deferred_ivgp_reads_nothing_and_trains_to_the_same_weights(reference, tmp_path):
    """A training run of IVGP with its recurrence on the device gives the host's weights
    bit for bit (the decisions themselves, rho < 1 included: the next test)."""
    over = IVGP + [f"penalty.ivgp.reference={reference}", "penalty.ivgp.warmup=3"]
    runs = []
    for deferred in (False, True):
        t = _trainer("ivgp-mnist", tmp_path / str(deferred), over)
        if deferred:
            t.stepper.defer_host_reads()
            assert t.stepper.host_read_reasons() == []
        for i in range(3):
            t.stepper.run(i, 1000)
        with host_reads() as seen:
            for i in range(3, 10):
                t.stepper.run(i, 1000)
        assert (seen == []) == deferred
        runs.append((_weights(t), t.schedule.state_dict(), t.schedule.rho()))
    (wa, sa, ra), (wb, sb, rb) = runs
    assert all(torch.equal(a, b) for a, b in zip(wa, wb))
    assert sa == sb and ra == rb


@pytest.mark.parametrize("reference", ["max", "initial"])
def test_ivgp_decides_the_same_from_a_device_tensor_as_from_a_float(reference):
    from ganforge.config import PenaltyConfig
    from ganforge.objectives.schedules import IVGPSchedule, Observation

    cfg = PenaltyConfig(name="gp", schedule="ivgp", weight=10.0, weight_min=0.1)
    cfg.ivgp.reference, cfg.ivgp.warmup = reference, 2
    host, dev = IVGPSchedule(cfg), IVGPSchedule(cfg)
    # rising, then falling towards the reals (rho < 1), a non-finite estimate, a negative one
    ws = [1.0, -0.2, 1.3, 2.0, 1.1, 0.6, float("nan"), 0.3, 0.05, -0.1, 0.4] + [0.02] * 40
    rhos = []
    for i, w in enumerate(ws):
        a = host.decide(Observation(i, 100, float(torch.tensor(w))))
        b = dev.decide(Observation(i, 100, torch.tensor(w)))  # float32, as D's outputs are
        assert isinstance(b.weight, torch.Tensor)
        assert float(b.weight) == a.weight and float(b.eps_low) == a.eps_low
        assert {k: float(v) for k, v in b.stats.items()} == {k: float(v) for k, v in a.stats.items()}
        rhos.append(a.stats["ivgp_rho"])
    assert min(rhos) < 0.5 and host.state_dict() == dev.state_dict()
    fresh = IVGPSchedule(cfg)  # a checkpoint of the deferred schedule holds plain numbers
    fresh.load_state_dict(dev.state_dict())
    assert fresh.decide(Observation(99, 100, torch.tensor(0.2))).weight == host.decide(Observation(99, 100, float(torch.tensor(0.2)))).weight


def _weights(t):
    return [p.detach().clone() for m in (t.G, t.D) for p in m.parameters()] + \
        [p.detach().clone() for p in (t.ema.module.parameters() if t.ema is not None else [])]


@pytest.mark.parametrize("case,extra", [
    ("wgan-gp-mlp", []), ("dcgan", []),
    # ADA starting at p = 0.2 (never 0 or 1 in these steps): both modes draw the same numbers
    ("r3gan-upconv (R1+R2, ADA, EMA)", ["augment.p=0.2", "augment.interval=2"]),
])
def test_the_deferred_step_trains_to_the_same_weights_bit_for_bit(case, extra, tmp_path):
    preset, over = CASES[case]
    runs = []
    for deferred in (False, True):
        t = _trainer(preset, tmp_path / str(deferred), over + extra)
        if deferred:
            t.stepper.defer_host_reads()
        for i in range(16):
            t.stepper.run(i, 1000)
        runs.append((_weights(t), float(t.augment.ada.p) if t.augment.ada is not None else None))
    (wa, pa), (wb, pb) = runs
    assert len(wa) == len(wb) and all(torch.equal(a, b) for a, b in zip(wa, wb))
    assert pa == pb
    if pa is not None:
        assert pa != 0.2  # ADA did move p: its device arithmetic is checked, not skipped


def test_deferred_ada_state_survives_a_checkpoint(tmp_path):
    preset, over = CASES["r3gan-upconv (R1+R2, ADA, EMA)"]
    t = _trainer(preset, tmp_path, over + ["augment.p=0.2", "augment.interval=2"])
    t.stepper.defer_host_reads()
    for i in range(6):
        t.stepper.run(i, 1000)
    s = copy.deepcopy(t.augment.state_dict())
    assert isinstance(s["p"], float) and s["updates"] == 3
    u = _trainer(preset, tmp_path / "b", over + ["augment.p=0.2", "augment.interval=2"])
    u.augment.load_state_dict(s)
    assert u.augment.ada.p == s["p"] and u.augment.ada.updates == 3


def test_ema_multi_tensor_update_equals_the_per_tensor_lerp():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(7, 33), torch.nn.BatchNorm1d(33), torch.nn.Linear(33, 5))
    ema, ref = EMA(m, decay=0.99), copy.deepcopy(m).requires_grad_(False)
    for _ in range(10):
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.randn_like(p))
        m.train()(torch.randn(8, 7))  # moves the batch-norm buffers
        ema.update(m)
        for e, p in zip(ref.parameters(), m.parameters()):
            e.lerp_(p.detach(), 1 - 0.99)
        for e, b in zip(ref.buffers(), m.buffers()):
            e.copy_(b)
    assert all(torch.equal(a, b) for a, b in zip(ema.module.state_dict().values(), ref.state_dict().values()))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA's sync debug mode needs a GPU")
def test_on_a_gpu_the_step_makes_no_synchronisation(tmp_path):
    preset, over = CASES["r3gan-upconv (R1+R2, ADA, EMA)"]
    t = _trainer(preset, tmp_path, [o for o in over if not o.startswith("train.device")] + ["train.device=cuda"])
    for i in range(3):
        t.stepper.run(i, 1000)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for i in range(3, 12):
            t.stepper.run(i, 1000)
    finally:
        torch.cuda.set_sync_debug_mode("default")
