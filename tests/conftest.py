import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = Path(os.environ.get("GANFORGE_MNIST_DIR", ROOT.parent / "shared" / "data" / "mnist"))


if os.environ.get("PYTEST_XDIST_WORKER"):
    # under pytest-xdist each worker is one process of several on the machine's cores:
    # one thread each (and for the processes a test starts), or their OpenMP pools spin
    # against each other and every test slows down several times
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield


@pytest.fixture
def mnist_dir() -> Path:
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST test split not found in {MNIST_DIR}")
    return MNIST_DIR


def tiny_config(tmp_path, **sections):
    """A config dict for a fast toy run (small MLP), with per-section overrides."""
    cfg = {
        "data": {"name": "toy", "toy": "ring8", "n_samples": 512},
        "model": {"name": "mlp", "z_dim": 8, "g_hidden": [32, 32], "d_hidden": [32, 32]},
        # the classic method, named: toy data's recipe (r3gan-toy) lies under a dict that
        # keeps its method, and these tests are about WGAN-GP's loop
        "loss": {"name": "wasserstein"},
        "penalty": {"name": "gp"},
        "train": {"iters": 20, "batch_size": 32, "n_critic": 2, "log_every": 5, "sample_every": 10,
                  "ckpt_every": 10, "tensorboard": False, "device": "cpu",
                  # a fixed thread count: bit-exact comparisons between runs need one
                  # (auto threads follow the machine's load, see train/threads.py)
                  "threads": 1},
        "out": str(tmp_path / "run"),
    }
    for sec, vals in sections.items():
        if isinstance(vals, dict):
            cfg.setdefault(sec, {}).update(vals)
        else:
            cfg[sec] = vals
    return cfg
