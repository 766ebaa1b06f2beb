"""What a user sees: progress on slow runs, the run's quality where it is looked for, and
exact messages (each case failed on the main before this change)."""
import fcntl
import io
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import types
import warnings
from pathlib import Path

import pytest
import torch

import ganforge
from ganforge.cli import main
from ganforge.errors import ConfigError, DataError
from ganforge.plot import panels_for
from ganforge.resolve import resolve
from ganforge.train.callbacks import Progress

from conftest import tiny_config


# ---------------------------------------------------------------- progress
class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _view(step, iters=1000, record=None, ev=None, elapsed=1.0):
    cfg = types.SimpleNamespace(train=types.SimpleNamespace(iters=iters))
    return types.SimpleNamespace(step=step, cfg=cfg, last_record=record or {}, last_eval=ev or {}, elapsed=elapsed)


def test_without_a_terminal_a_line_comes_every_ten_seconds_and_at_each_evaluation():
    out, clock = io.StringIO(), FakeClock()
    p = Progress(stream=out, clock=clock)
    p.on_start(_view(0))
    for step in range(1, 31):  # 30 steps of 0.5 s: a line at the first step, then 10 s later
        clock.now += 0.5
        p.on_step(_view(step, record={"step": step, "loss_d": 0.5}), {})
    lines = out.getvalue().splitlines()
    assert [ln.split()[1] for ln in lines] == ["1/1000", "21/1000"]  # not every 250 steps
    clock.now += 0.1  # an evaluation shows at once, with its metrics
    p.on_step(_view(31, ev={"step": 31, "fid": 42.125}), {})
    assert out.getvalue().splitlines()[-1].startswith("step 31/1000 ") and "fid=42.12" in out.getvalue()
    clock.now += 9.0
    p.on_step(_view(32), {})
    assert len(out.getvalue().splitlines()) == 3  # 9 s after the last line: nothing yet
    p.on_step(_view(1000), {})  # the last step always says where the run ended
    assert out.getvalue().splitlines()[-1].startswith("step 1000/1000")


def test_a_terminal_of_size_zero_still_gets_a_bar():
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
    with os.fdopen(slave, "w") as tty:
        p = Progress(stream=tty)
        p.on_start(_view(0, iters=10))
        assert p.bar is not None and p.bar.ncols == 80
        for s in range(1, 4):
            p.on_step(_view(s, iters=10), {})
        p.on_end(_view(3, iters=10))
    import select

    chunks = []
    while select.select([master], [], [], 0.5)[0]:  # everything the bar wrote, however it was split
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    shown = b"".join(chunks).decode(errors="replace")
    assert "3/10" in shown


# ---------------------------------------------------------------- the run's quality where it is looked for
def test_finish_line_and_runs_show_the_quality(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", "toy", "--iters", "40", "--batch-size", "64", "--quiet", "--device", "cpu",
                 "--threads", "1", "--sample-every", "20", "--set", "data.n_samples=512", "--set",
                 "train.tensorboard=false", "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "\nquality:      modes=" in out and "/8 high_quality=" in out and "(step 40)" in out
    assert main(["runs", str(run)]) == 0
    table = capsys.readouterr().out
    assert "quality" in table.splitlines()[0] and "modes=" in table
    m = ganforge.evaluate(run, n=400)  # eval.json: the runs listing takes it from there
    assert json.loads((run / "eval.json").read_text())["w1"] == m["w1"] and m["step"] == 40
    assert main(["runs", str(run)]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert f"{m['w1']:.4g}" in row  # best_w1 and the quality column from eval.json, not "-"
    # --repeats: the median of the draws at seeds 0, 1, 2, each exactly the single draw at that seed
    singles = [ganforge.evaluate(run, n=400, seed=s, write=False)["w1"] for s in range(3)]
    assert main(["eval", str(run), "--n", "400", "--repeats", "3"]) == 0
    out = capsys.readouterr().out
    rec = json.loads((run / "eval.json").read_text())
    assert rec["w1"] == sorted(singles)[1] and rec["repeats"] == 3
    assert rec["spread"]["w1"]["min"] == min(singles) and rec["spread"]["w1"]["max"] == max(singles)
    assert "w1 " in out and "over 3 draws" in out
    assert main(["eval", str(run), "--repeats", "0"]) == 2
    assert capsys.readouterr().err.strip().endswith("--repeats must be at least 1, got 0")


# ---------------------------------------------------------------- exact messages
def test_an_absurd_integer_is_refused():
    with pytest.raises(ConfigError, match=r"train.iters must be at most 9,223,372,036,854,775,807 in size"):
        resolve(overrides=["train.iters=99999999999999999999999"])


def test_a_yaml_tag_is_named_as_refused_not_as_invalid(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("train:\n  iters: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError) as e:
        resolve(file=f)
    msg = str(e.value)
    assert "python/object/apply:os.system" in msg and "at line 2 is refused" in msg and "not valid YAML" not in msg
    f.write_text("train: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        resolve(file=f)


def test_csv_errors_count_the_files_lines_and_an_empty_file_is_said_once(tmp_path):
    from ganforge.data.points import read_points

    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,abc\n")
    with pytest.raises(DataError, match="at line 3, column 2"):
        read_points(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's own warning would raise here
        with pytest.raises(DataError, match="expected an N x D array"):
            read_points(empty)


def test_plot_draws_no_ivgp_panel_for_a_run_without_ivgp(tmp_path):
    res = ganforge.train(tiny_config(tmp_path), log=lambda m: None)  # WGAN-GP: eps logged, no rho
    keys = {k for r in ganforge.api.RunDir(res.run_dir).read_metrics() for k in r}
    titles = [t for t, _ in panels_for(keys)]
    assert "interpolation of the penalty points (eps)" in titles and not any("rho" in t.lower() for t in titles)
    assert "IVGP rho" in [t for t, _ in panels_for(keys | {"ivgp_rho"})]


def _png_header(path, w, h):
    """A PNG whose header claims w x h pixels (no pixel data: Pillow reads sizes from the header)."""
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))


def test_our_pixel_limit_speaks_before_pillows(tmp_path):
    from ganforge.config import DataConfig
    from ganforge.data import load_dataset

    from PIL import Image

    guard = Image.MAX_IMAGE_PIXELS
    folder = tmp_path / "imgs"
    folder.mkdir()
    _png_header(folder / "bomb.png", 30000, 30000)  # 900 MP: past Pillow's own 179 MP refusal
    with pytest.raises(DataError) as e:
        load_dataset(DataConfig(name="imagefolder", dir=str(folder), size=16))
    assert "30000x30000 px (900 MP) is larger than data.max_pixels=40000000" in str(e.value)
    assert "decompression bomb" not in str(e.value).lower()
    assert Image.MAX_IMAGE_PIXELS == guard  # Pillow's own guard is back for everyone else


def test_disk_full_says_what_is_kept_and_how_to_go_on(tmp_path, monkeypatch):
    import errno

    from ganforge.errors import RunError
    from ganforge.train.checkpoint import atomic_write_bytes

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(RunError) as e:
        atomic_write_bytes(tmp_path / "new.pt", b"x")
    assert str(e.value).endswith("disk full while writing")  # nothing was there to keep
    (tmp_path / "old.pt").write_bytes(b"y")
    with pytest.raises(RunError, match="disk full while writing; the previous file is kept"):
        atomic_write_bytes(tmp_path / "old.pt", b"x")
    monkeypatch.undo()
    # in a run: the first checkpoint cannot be resumed from; a later one can, and says how
    from ganforge.train import callbacks
    from ganforge.train.checkpoint import DiskFullError

    real = callbacks.save_checkpoint
    calls = {"n": 0}

    def first_ok_then_full(*a, **k):
        calls["n"] += 1
        if calls["n"] >= 2:
            raise DiskFullError("ckpt_0000010.pt: disk full while writing")
        return real(*a, **k)

    monkeypatch.setattr(callbacks, "save_checkpoint", first_ok_then_full)
    with pytest.raises(RunError) as e:
        ganforge.train(tiny_config(tmp_path / "a"), log=lambda m: None)
    assert f"continue from step 0 with: ganforge train --resume {tmp_path / 'a' / 'run'}" in str(e.value)
    calls["n"] = 1
    with pytest.raises(RunError, match="no checkpoint was written yet: free some space and start the run again"):
        ganforge.train(tiny_config(tmp_path / "b"), log=lambda m: None)


def test_a_failed_storage_leaves_no_empty_study_folder(tmp_path):
    from ganforge.tune.runner import tune

    folder = tmp_path / "study"
    with pytest.raises(ConfigError, match="--storage"):
        tune("gp", 1, folder, storage="nosuchdb://nobody@127.0.0.1:1/none")
    assert not folder.exists()


def test_tune_shows_the_running_trial():
    from ganforge.tune.runner import TrialProgress

    said, clock = [], FakeClock()
    p = TrialProgress(3, "fid", said.append, clock=clock)
    p.on_start(_view(0))
    clock.now = 4.0
    p.on_step(_view(5), {})
    assert said == []
    clock.now = 10.5
    p.on_step(_view(9, iters=600, ev={"step": 8, "fid": 77.25}), {})
    assert said == ["trial 3: running, step 9/600 fid=77.25 (step 8)"]


def test_torchs_pickle_protocol_note_is_not_shown_before_sample(tmp_path, monkeypatch, capsys):
    """torch (some versions) warns in two lines about the pickle protocol a checkpoint was
    written with: nothing a user can act on, so `sample` and `eval` do not show it."""
    import torch

    ganforge.train(tiny_config(tmp_path, train={"iters": 4, "ckpt_every": 4, "sample_every": 4}))
    real = torch.load

    def noisy_load(*a, **k):
        warnings.warn("The given file was saved with pickle protocol 4, which is deprecated;\n"
                      "  re-save it with a newer protocol", UserWarning)
        return real(*a, **k)

    monkeypatch.setattr(torch, "load", noisy_load)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning that got through would raise here
        assert main(["sample", str(tmp_path / "run"), "--n", "8", "--out", str(tmp_path / "s.png")]) == 0
    captured = capsys.readouterr()
    assert "pickle protocol" not in captured.out + captured.err and "wrote 8 samples" in captured.out


def test_a_closed_pipe_ends_the_output_quietly(tmp_path):
    # `ganforge train --dry-run | head -1`: the reader leaves after a line; before, Python's
    # BrokenPipeError traceback followed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1] / "src"),
                                                         os.environ.get("PYTHONPATH", "")])}
    cmd = f"{sys.executable} -m ganforge train --data toy --dry-run | head -1"
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert out.stdout.startswith("# recipe: r3gan-toy") and len(out.stdout.splitlines()) == 1
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr, out.stderr



def test_runs_names_the_measure_of_the_runs_data_before_any_evaluation(tmp_path):
    """A run not yet evaluated gets the column its data will have: best_fid for images,
    best_w1 for toy data (it read best_w1 for every such run)."""
    from ganforge.config import Config
    from ganforge.report.html import run_summary
    from ganforge.train.rundir import RunDir

    for name, key in (("mnist", "best_fid"), ("imagefolder", "best_fid"), ("toy", "best_w1")):
        cfg = Config()
        cfg.data.name = name
        run = RunDir(tmp_path / name)
        run.create(cfg)
        row = run_summary(run)
        assert key in row and row[key] is None
        assert ("best_w1" if key == "best_fid" else "best_fid") not in row


def test_a_sample_picture_type_is_checked_against_its_writer_s_own_list(tmp_path):
    """`sample --out` names a file its writer must be able to save: Pillow's types for an
    image grid, matplotlib's for a scatter of points (.eps was refused by a short copy)."""
    from ganforge.images import require_picture_suffix, save_scatter

    assert require_picture_suffix("g.PNG", image=True).name == "g.PNG"
    assert require_picture_suffix("g.webp", image=True).suffix == ".webp"
    save_scatter(torch.zeros(4, 2), require_picture_suffix(tmp_path / "pts.eps", image=False))
    assert (tmp_path / "pts.eps").read_bytes().startswith(b"%!PS")
    for name, image in (("g.xyz", True), ("g.xyz", False), ("g", False)):
        with pytest.raises(ConfigError, match="is not a picture type this run's samples are written as; name a .png file"):
            require_picture_suffix(name, image)
