import gzip
import struct

import numpy as np
import pytest
import torch

from ganforge.config import DataConfig, ModelConfig
from ganforge.data import load_dataset
from ganforge.data.idx import parse_idx, read_idx
from ganforge.data.mnist import load_mnist_arrays
from ganforge.errors import ConfigError, DataError
from ganforge.models import build_models, sample_latent


@pytest.mark.parametrize("toy", ["ring8", "grid25", "swissroll"])
def test_toy_shapes_range_and_seed(toy):
    a = load_dataset(DataConfig(name="toy", toy=toy, n_samples=1000))
    b = load_dataset(DataConfig(name="toy", toy=toy, n_samples=1000))
    assert a.x.shape == (1000, 2) and a.x.abs().max() <= 1.0
    assert torch.equal(a.x, b.x)


def test_ring8_points_sit_on_modes():
    ds = load_dataset(DataConfig(name="toy", toy="ring8", n_samples=4000))
    d = torch.cdist(ds.x, ds.info["centres"]).min(1).values
    assert (d < 4 * ds.info["std"] * 2**0.5).float().mean() > 0.99


@pytest.mark.parametrize("size", [None, 16, 32])
def test_digits(size):
    ds = load_dataset(DataConfig(name="digits", size=size))
    s = size or 8
    assert ds.x.shape == (1797, 1, s, s) and ds.y.shape == (1797,)
    assert ds.x.min() >= -1 and ds.x.max() <= 1 and ds.x.min() == -1
    assert set(ds.y.tolist()) == set(range(10))


def test_holdout_and_limit():
    ds = load_dataset(DataConfig(name="digits", holdout=97, limit=1000))
    assert len(ds) == 1000 and ds.holdout_x.shape[0] == 97 and ds.holdout_y.shape == (97,)
    with pytest.raises(ConfigError, match="holdout"):
        load_dataset(DataConfig(name="digits", holdout=5000))


def test_mnist_from_shared(mnist_dir):
    ds = load_dataset(DataConfig(name="mnist", dir=str(mnist_dir)))
    assert ds.x.shape == (10000, 1, 28, 28)
    assert ds.x.min() == -1 and ds.x.max() == 1
    counts = torch.bincount(ds.y, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    mean_pixel = ((ds.x + 1) * 127.5).mean().item()
    assert mean_pixel == pytest.approx(33.79, abs=0.01)


def _idx(arr: np.ndarray, code=0x08) -> bytes:
    return struct.pack(">HBB", 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def test_idx_round_trip_and_errors(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(parse_idx(_idx(a), "x"), a)
    with pytest.raises(DataError, match="wrong magic"):
        parse_idx(b"\x12\x34\x08\x03" + _idx(a)[4:], "x")
    with pytest.raises(DataError, match="header claims"):
        parse_idx(_idx(a)[:-1], "x")
    huge = struct.pack(">HBB", 0, 8, 3) + struct.pack(">3I", 60000, 60000, 60000)  # never allocated
    with pytest.raises(DataError, match="header claims"):
        parse_idx(huge, "x")
    with pytest.raises(DataError, match="too short"):
        parse_idx(b"\x00", "x")
    p = tmp_path / "t10k-images-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(_idx(a))[:-10])
    with pytest.raises(DataError, match="truncated|corrupted"):
        read_idx(p)
    p.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=str(p.name)):
        read_idx(p)


def test_mnist_folder_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist_arrays(tmp_path / "nope")
    with pytest.raises(DataError, match="no MNIST files"):
        load_mnist_arrays(tmp_path)
    imgs = np.zeros((3, 28, 28), np.uint8)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(imgs))
    with pytest.raises(DataError, match="no matching labels"):
        load_mnist_arrays(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.zeros(2, np.uint8)))
    with pytest.raises(DataError, match="3 images but"):
        load_mnist_arrays(tmp_path)
    with pytest.raises(ConfigError, match="needs data.dir"):
        load_dataset(DataConfig(name="mnist"))


@pytest.mark.parametrize("size,ch", [(8, 1), (16, 1), (28, 1), (32, 3), (64, 3)])
@pytest.mark.parametrize("d_norm", ["none", "layer", "spectral", "batch"])
def test_dcgan_shapes(size, ch, d_norm):
    g, d = build_models(ModelConfig(name="dcgan", z_dim=16, width=8, d_norm=d_norm), (ch, size, size))
    x = g(torch.randn(4, 16))
    assert x.shape == (4, ch, size, size) and x.abs().max() <= 1
    assert d(x).shape == (4,)


def test_dcgan28_matches_reference_layout():
    """Same parameter count as ../shared/bench/naive_wgan_gp.py --arch dcgan28 (z 64)."""
    g, d = build_models(ModelConfig(name="dcgan", z_dim=64, width=64), (1, 28, 28))
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    g_ref = (64 * 6272 + 6272) + 2 * 6272 + (128 * 64 * 16 + 64) + 2 * 64 + (64 * 16 + 1)
    d_ref = (64 * 16 + 64) + (64 * 128 * 16 + 128) + (128 * 49 + 1)
    assert (n(g), n(d)) == (g_ref, d_ref)


def test_mlp_and_latents():
    g, d = build_models(ModelConfig(name="mlp", z_dim=10), (1, 8, 8))
    assert g(sample_latent(5, 10, "uniform")).shape == (5, 1, 8, 8)
    assert d(torch.randn(5, 1, 8, 8)).shape == (5,)
    u = sample_latent(1000, 4, "uniform")
    assert u.min() >= -1 and u.max() <= 1
    with pytest.raises(ConfigError, match="did you mean 'dcgan'"):
        build_models(ModelConfig(name="dcgn"), (1, 8, 8))
    with pytest.raises(ConfigError, match="square images"):
        build_models(ModelConfig(name="dcgan"), (2,))
