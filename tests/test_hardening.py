"""Attacks and bad inputs: paths read from a run folder stay inside it, unsafe checkpoints
are refused in one line, decompression and image bombs are capped, absurd sizes are
refused up front, bad storage URLs and unreadable runs give one line and exit 2."""
import gzip
import json
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import tiny_config
from ganforge import api
from ganforge.cli import main
from ganforge.config import Config, DataConfig
from ganforge.data import load_dataset
from ganforge.data.idx import MAX_DECOMPRESSED, read_bytes
from ganforge.errors import ConfigError, DataError, RunError
from ganforge.train.checkpoint import load_latest, save_checkpoint
from ganforge.resolve import finish


def one_line_error(capsys, argv, match):
    """``ganforge ARGV`` fails with exit 2 and one line on stderr that contains ``match``."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and match in err, err
    return err


@pytest.fixture
def run(tmp_path):
    res = api.train(tiny_config(tmp_path, train={"iters": 20, "ckpt_every": 10}), log=lambda m: None)
    return res.run_dir


# ---------------------------------------------------------------- run-folder paths
@pytest.mark.parametrize("name", ["../victim.txt", "/ABS/victim.txt", "sub/ckpt_0000001.pt", "ckpt_1.pt.bak", 7])
def test_manifest_naming_a_file_elsewhere_is_refused_and_nothing_is_deleted(tmp_path, capsys, run, name):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    name = str(victim) if name == "/ABS/victim.txt" else name
    man = run / "checkpoints" / "manifest.json"
    d = json.loads(man.read_text())
    d["checkpoints"].insert(0, {"file": name, "step": 1, "sha256": None})
    man.write_text(json.dumps(d))
    err = one_line_error(capsys, ["train", "--resume", str(run), "--iters", "40", "--quiet"], "refused")
    assert "not a checkpoint file of this folder" in err
    assert victim.read_text() == "precious"
    with pytest.raises(RunError, match="refused"):
        api.sample(run, n=4)


def test_rotation_never_deletes_outside_the_folder(tmp_path):
    victim = tmp_path / "victim.pt"
    victim.write_text("x")
    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"checkpoints": [{"file": "../victim.pt", "step": 0}]}))
    with pytest.raises(RunError, match="refused"):
        save_checkpoint(folder, 1, {"step": 1})
    assert victim.exists()


def test_link_leading_out_of_the_run_is_refused(tmp_path, capsys, run):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (run / "checkpoints").rename(outside / "checkpoints")
    (run / "checkpoints").symlink_to(outside / "checkpoints")
    one_line_error(capsys, ["train", "--resume", str(run), "--iters", "40", "--quiet"], "leads outside the run folder")
    one_line_error(capsys, ["sample", str(run), "--n", "4", "--out", str(tmp_path / "g.png")], "leads outside")
    assert sorted(p.name for p in (outside / "checkpoints").glob("*.pt")) == ["ckpt_0000010.pt", "ckpt_0000020.pt"]


def test_report_skips_sample_grids_that_are_links(tmp_path, run):
    secret = tmp_path / "secret.png"
    Image.new("L", (4, 4)).save(secret)
    (run / "samples" / "step_999999.png").symlink_to(secret)
    assert main(["report", str(run), "--out", str(tmp_path / "rep")]) == 0
    assert not any("999999" in p.name for p in (tmp_path / "rep").iterdir())


def test_yaml_tag_in_a_run_config_is_one_line_and_listings_skip_it(tmp_path, capsys, run):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.yaml").write_text("data: !!python/object/apply:os.system ['echo pwned']\n")
    one_line_error(capsys, ["train", "--resume", str(bad), "--quiet"], "could not determine a constructor")
    assert main(["runs", str(tmp_path)]) == 0
    cap = capsys.readouterr()
    assert "skipped" in cap.err and str(bad) in cap.err and str(run) in cap.out
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "rep")]) == 0
    assert "Left out (unreadable)" in (tmp_path / "rep" / "index.html").read_text()


# ---------------------------------------------------------------- unsafe checkpoints
class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_unsafe_checkpoint_refusal_is_short_and_never_advises_disabling(tmp_path):
    for step in (1, 2):
        torch.save({"step": step, "payload": Evil()}, tmp_path / f"ckpt_000000{step}.pt")
    with pytest.raises(RunError) as e:
        load_latest(tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and "weights_only" not in msg and "posix.system" in msg
    assert len(msg) < 400, len(msg)


# ---------------------------------------------------------------- bombs and sizes
def test_gzip_bomb_is_refused_with_bounded_memory(tmp_path):
    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:  # ~1 MB that inflates to 1 GiB
        block = b"\0" * (1 << 24)
        for _ in range(64):
            f.write(block)
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="gzip bomb"):
            read_bytes(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MAX_DECOMPRESSED + (8 << 20), peak >> 20


def test_gzip_reader_keeps_real_sizes_exact(tmp_path):
    p = tmp_path / "x.gz"
    for n in (0, 1, 1 << 20, (1 << 20) + 1, 3 << 20):
        data = np.random.default_rng(n).integers(0, 4, n, dtype=np.uint8).tobytes()
        p.write_bytes(gzip.compress(data))
        assert read_bytes(p) == data


def test_huge_image_is_refused_from_its_header(tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("L", (4000, 3000)).save(folder / "big.png")  # 12 MP
    Image.new("L", (32, 32)).save(folder / "small.png")
    cfg = DataConfig(name="imagefolder", dir=str(folder), size=16, max_pixels=10_000_000)
    with pytest.raises(DataError, match=r"4000x3000 px .* data.max_pixels=10000000"):
        load_dataset(cfg)
    cfg.skip_bad = True
    assert len(load_dataset(cfg)) == 1
    err = capsys.readouterr().err  # one line in our words, no Python warning with its source line
    assert err.startswith("warning: skipping ") and "big.png: 4000x3000 px" in err and err.count("\n") == 1
    cfg.max_pixels, cfg.skip_bad = 20_000_000, False
    assert len(load_dataset(cfg)) == 2


def test_absurd_model_size_is_refused_before_allocating(tmp_path, capsys):
    err = one_line_error(capsys, ["train", "--iters", "1", "--quiet", "--out", str(tmp_path / "r"),
                                  "--set", "model.g_hidden=[200000,200000]"], "GiB")
    assert "model.g_hidden" in err
    assert not (tmp_path / "r").exists()


def test_sample_count_beyond_memory_is_refused(tmp_path, capsys, run):
    one_line_error(capsys, ["sample", str(run), "--n", "100000000000", "--out", str(tmp_path / "g.png")],
                   "ask for fewer samples")


# ---------------------------------------------------------------- configs and data
def test_empty_config_file_is_an_error(tmp_path, capsys):
    f = tmp_path / "c.yaml"
    f.write_text("# nothing yet\n")
    one_line_error(capsys, ["train", "--config", str(f), "--dry-run"], "the file is empty")


def test_mnist_folder_with_zero_images_names_the_real_problem(tmp_path, capsys):
    import struct

    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(struct.pack(">HBB3I", 0, 8, 3, 0, 28, 28))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(struct.pack(">HBBI", 0, 8, 1, 0))
    err = one_line_error(capsys, ["train", "--data", "mnist", "--data-dir", str(tmp_path), "--holdout", "10",
                                  "--quiet", "--out", str(tmp_path / "r")], "hold 0 images")
    assert "holdout" not in err


# ---------------------------------------------------------------- tune storage
SPACE = """
base:
  config:
    data: {name: toy, toy: ring8, n_samples: 512}
    train: {iters: 2, device: cpu, tensorboard: false}
    eval: {every: 1}
params:
  optim.g.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
"""

@pytest.mark.parametrize("url,match", [
    ("notaurl", "not a database URL"),
    ("foo://x/y", "unknown database kind 'foo'"),
    ("mysql+nosuchdriver://u:secret@127.0.0.1:1/db", None),
    ("postgresql+pg8000://u:secret@127.0.0.1:1/db", "no module 'pg8000'"),
    ("sqlite:////nonexistent-dir/x/study.db", "cannot open the database"),
])
def test_bad_storage_url_is_one_line(tmp_path, capsys, url, match):
    space = tmp_path / "s.yaml"
    space.write_text(SPACE)
    err = one_line_error(capsys, ["tune", "--space", str(space), "--trials", "1", "--out", str(tmp_path / "st"),
                                  "--storage", url], "--storage")
    if match:
        assert match in err
    assert "secret" not in err  # a password in the URL is never echoed


def test_refused_connection_is_one_line(tmp_path):
    pytest.importorskip("psycopg2")
    space = tmp_path / "s.yaml"
    space.write_text(SPACE)
    p = subprocess.run([sys.executable, "-m", "ganforge", "tune", "--space", str(space), "--trials", "1",
                        "--out", str(tmp_path / "st"), "--storage", "postgresql+psycopg2://u:pw@127.0.0.1:9/db"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "cannot open the database" in p.stderr


# ---------------------------------------------------------------- typos in enum-valued keys
@pytest.mark.parametrize("key,typo,want", [
    ("data.name", "mnst", "mnist"), ("data.toy", "ring9", "ring8"), ("model.name", "dcgn", "dcgan"),
    ("model.g_norm", "batc", "batch"), ("model.d_norm", "spectra", "spectral"), ("model.latent", "norml", "normal"),
    ("model.g_act", "relu6", "relu"), ("model.d_act", "leakyrel", "leakyrelu"), ("model.init", "xavir", "xavier"),
    ("loss.name", "hing", "hinge"), ("penalty.name", "r1+r3", "r2"), ("penalty.schedule", "ivpg", "ivgp"),
    ("penalty.ivgp.reference", "initail", "initial"), ("optim.g.name", "adamm", "adam"),
    ("optim.d.schedule", "cosin", "cosine"), ("optim.g.impl", "fusd", "fused"), ("train.precision", "bf61", "bf16"),
    ("eval.reference", "hldout", "holdout"), ("augment.ops", "[cutot]", "cutout"),
])
def test_every_enum_key_answers_a_typo_with_did_you_mean(key, typo, want):
    cfg = Config()
    with pytest.raises(ConfigError, match=f"did you mean '{want}'"):
        cfg.set(key, typo)
        finish(cfg)


def test_mistyped_subcommand_and_choice_suggest(capsys):
    with pytest.raises(SystemExit) as e:
        main(["trian"])
    assert e.value.code == 2 and "did you mean 'train'" in capsys.readouterr().err


def test_schedule_without_a_gradient_penalty_is_an_error():
    with pytest.raises(ConfigError, match="has no effect with penalty.name=clip"):
        Config.from_dict({"penalty": {"name": "clip", "schedule": "ivgp"}})
