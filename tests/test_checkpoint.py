"""Checkpoints: atomic writes, checksum fallback, safe loading, disk full."""
import errno
import json
import os

import pytest
import torch

from ganforge.errors import RunError
from ganforge.train.checkpoint import load_latest, save_checkpoint


def state(step):
    return {"step": step, "w": torch.full((3,), float(step))}


def test_keeps_newest_and_manifest(tmp_path):
    for s in (1, 2, 3):
        save_checkpoint(tmp_path, s, state(s), keep=2)
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == ["ckpt_0000002.pt", "ckpt_0000003.pt"]
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert [e["step"] for e in man["checkpoints"]] == [2, 3]
    st, path = load_latest(tmp_path)
    assert st["step"] == 3 and torch.equal(st["w"], torch.full((3,), 3.0))


def test_damaged_newest_falls_back_with_warning(tmp_path):
    save_checkpoint(tmp_path, 1, state(1))
    p = save_checkpoint(tmp_path, 2, state(2))
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="checksum mismatch"):
        st, path = load_latest(tmp_path)
    assert st["step"] == 1


def test_truncated_newest_without_manifest_falls_back(tmp_path):
    save_checkpoint(tmp_path, 1, state(1))
    p = save_checkpoint(tmp_path, 2, state(2))
    (tmp_path / "manifest.json").unlink()
    p.write_bytes(p.read_bytes()[:100])
    with pytest.warns(UserWarning):
        st, _ = load_latest(tmp_path)
    assert st["step"] == 1


def test_all_damaged_is_a_clear_error(tmp_path):
    p = save_checkpoint(tmp_path, 1, state(1))
    p.write_bytes(b"garbage")
    with pytest.raises(RunError, match="every checkpoint is damaged"):
        load_latest(tmp_path)
    with pytest.raises(RunError, match="no checkpoint"):
        load_latest(tmp_path / "none")


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickle_is_refused(tmp_path):
    p = tmp_path / "ckpt_0000001.pt"
    torch.save({"step": 1, "payload": Evil()}, p)
    with pytest.raises(RunError, match="refused: the file would run code"):
        load_latest(tmp_path)


def test_disk_full_keeps_previous_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, 1, state(1))
    real_write = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(RunError, match="disk full"):
        save_checkpoint(tmp_path, 2, state(2))
    monkeypatch.setattr(os, "fsync", real_write)
    assert not list(tmp_path.glob(".*tmp*"))  # no half-written file left behind
    st, _ = load_latest(tmp_path)
    assert st["step"] == 1


def test_source_state_of_another_device_kind_is_not_loaded():
    """A run trained on a GPU, loaded on a CPU (ganforge sample/evaluate on a laptop): the
    CUDA generator's 16-byte state cannot go into a CPU generator. The CPU source keeps
    its own seeded stream instead of failing (seen on an H200: load_run raised)."""
    from ganforge.train.sampling import BatchSource

    x = torch.arange(10.0).reshape(10, 1)
    fresh = BatchSource(x, None, torch.device("cpu"), seed=3, z_dim=2, latent="normal")
    src = BatchSource(x, None, torch.device("cpu"), seed=3, z_dim=2, latent="normal")
    src.load_state_dict({"gen": torch.zeros(16, dtype=torch.uint8), "device": "cuda"})
    assert torch.equal(src.latent(4), fresh.latent(4))
    # checkpoints written before the device was recorded: told apart by the state's size
    src.load_state_dict({"gen": torch.zeros(16, dtype=torch.uint8)})
    assert torch.equal(src.latent(4), fresh.latent(4))
    # same device kind: the saved stream continues exactly
    other = BatchSource(x, None, torch.device("cpu"), seed=9, z_dim=2, latent="normal")
    other.latent(3)
    src.load_state_dict(other.state_dict())
    assert src.state_dict()["device"] == "cpu"
    assert torch.equal(src.latent(5), other.latent(5))
