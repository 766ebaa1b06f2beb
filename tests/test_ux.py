"""What a user sees: progress on slow runs, the run's quality where it is looked for, and
exact messages (each case failed on the main before this change)."""
import fcntl
import io
import json
import os
import pty
import struct
import termios
import types
import warnings

import pytest

import ganforge
from ganforge.cli import main
from ganforge.config import Config
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
    for step in range(1, 31):  # 30 steps of 0.5 s: lines at 10 s and 20 s
        clock.now += 0.5
        p.on_step(_view(step, record={"step": step, "loss_d": 0.5}), {})
    lines = out.getvalue().splitlines()
    assert [ln.split()[1] for ln in lines] == ["20/1000"]  # 10 s after the start, not 250 steps
    clock.now += 0.1  # an evaluation shows at once, with its metrics
    p.on_step(_view(31, ev={"step": 31, "fid": 42.125}), {})
    assert out.getvalue().splitlines()[-1].startswith("step 31/1000 ") and "fid=42.12" in out.getvalue()
    clock.now += 9.0
    p.on_step(_view(32), {})
    assert len(out.getvalue().splitlines()) == 2  # 9 s after the last line: nothing yet
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
    shown = os.read(master, 4096).decode(errors="replace")
    os.close(master)
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
