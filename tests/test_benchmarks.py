"""The benchmarks' own machinery: the reference step they replay and the FLOP counter
their utilization figures rest on (timings themselves are never asserted in tests)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

throughput = pytest.importorskip("throughput")
reference = pytest.importorskip("reference")


@pytest.fixture
def bench_dir():
    if not (reference.BENCH / "naive_wgan_gp.py").is_file():
        pytest.skip(f"reference loop not found in {reference.BENCH}")
    return reference.BENCH


def test_ganforge_step_executes_fewer_flops_than_the_reference_for_the_same_math(bench_dir, mnist_dir):
    from ganforge.data import load_dataset

    cfg = reference.ganforge_config("dcgan28", mnist_dir, [])
    data = load_dataset(cfg.data)
    ref = throughput.reference_flops("dcgan28", data)
    ours = throughput.step_flops(cfg, data)
    # the forward FLOPs alone, by hand: D's two convolutions and output layer per sample,
    # (1->64: 14*14*64*16 MACs) + (64->128: 7*7*128*64*16) + 6272; G's likewise in reverse
    d_fwd = 2 * (14 * 14 * 64 * 16 + 7 * 7 * 128 * 64 * 16 + 7 * 7 * 128)
    assert ref > ours > 0.8 * ref  # less work, yet every forward/backward/penalty pass is there
    assert ours > 5 * 64 * 4 * d_fwd  # at least 4 critic forwards' worth per critic step
    # lazy penalty: fewer FLOPs again (3 of 4 critic steps without the double backward)
    lazy = throughput.step_flops(reference.ganforge_config("dcgan28", mnist_dir, ["penalty.every=4"]), data)
    assert lazy < 0.85 * ours
