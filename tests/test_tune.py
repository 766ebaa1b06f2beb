"""Hyperparameter search: a 4-trial study on toy data in SQLite, continuation, pruning,
failures recorded with their reason, two workers sharing one study, and the report."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from ganforge.cli import main  # noqa: E402
from ganforge.tune.runner import PruningCallback, run_trials  # noqa: E402
from ganforge.tune.space import load_space  # noqa: E402

SPACE = """
base:
  config:
    data: {name: toy, toy: ring8, n_samples: 512}
    model: {name: mlp, z_dim: 8, g_hidden: [32, 32], d_hidden: [32, 32]}
    train: {iters: 30, batch_size: 32, n_critic: 2, log_every: 10, sample_every: 30, ckpt_every: 30,
            tensorboard: false, device: cpu}
    eval: {every: 10, n: 200}
objective: {metric: w1, mode: best, direction: minimize}
sampler: tpe
pruner: median
params:
  optim.g.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true, also: [optim.d.lr]}
  optim.g.name: {type: categorical, choices: [adam, rmsprop], also: [optim.d.name]}
  penalty.weight: {type: float, low: 1.0, high: 20.0, when: {loss.name: wasserstein}}
"""


def write_space(tmp_path, text=SPACE):
    p = tmp_path / "space.yaml"
    p.write_text(text)
    return p


def test_study_runs_and_continues(tmp_path):
    space = write_space(tmp_path)
    folder = tmp_path / "study"
    st = run_trials(space, 4, folder, seed=0, log=lambda m: None)
    trials = st.get_trials(deepcopy=False)
    assert len(trials) == 4
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    done = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(done) >= 2
    best = st.best_trial
    assert 1e-4 <= best.params["optim.g.lr"] <= 1e-2 and best.params["optim.g.name"] in ("adam", "rmsprop")
    assert best.value == min(t.value for t in done)
    for t in trials:  # every trial is a normal run folder
        assert (Path(t.user_attrs["run_dir"]) / "config.yaml").is_file()
    # the same command again with a larger total continues the same study
    st2 = run_trials(space, 6, folder, seed=0, log=lambda m: None)
    assert len(st2.get_trials(deepcopy=False)) == 6
    assert run_trials(space, 6, folder, seed=0, log=lambda m: None).get_trials(deepcopy=False)[5].number == 5


def test_pruning_callback_stops_the_run(tmp_path):
    import ganforge

    class Trial:
        reports = []

        def report(self, v, step):
            self.reports.append((step, v))

        def should_prune(self):
            return len(self.reports) >= 2

    space = load_space(write_space(tmp_path))
    from ganforge.config import Config

    cfg = Config.from_dict(space.base)
    cfg.out = str(tmp_path / "run")
    cb = PruningCallback(Trial(), "w1")
    res = ganforge.train(cfg, extra_callbacks=[cb], log=lambda m: None)
    assert cb.pruned and res.step == 20 and "pruned at step 20" in res.reason
    assert [s for s, _ in Trial.reports] == [10, 20]


def test_failed_trials_recorded_with_reason(tmp_path):
    bad = SPACE.replace("penalty.weight: {type: float, low: 1.0, high: 20.0, when: {loss.name: wasserstein}}",
                        "optim.d.lr: {type: float, low: 1.0e+5, high: 1.0e+6}\n  penalty.name: {type: categorical, choices: [none]}")
    st = run_trials(write_space(tmp_path, bad), 2, tmp_path / "s", seed=0, log=lambda m: None)
    trials = st.get_trials(deepcopy=False)
    assert len(trials) == 2 and all(t.state.name in ("FAIL", "COMPLETE") for t in trials)
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert failed and all(t.user_attrs.get("reason") for t in failed)


def test_bad_space_is_a_clear_error(tmp_path, capsys):
    p = write_space(tmp_path, "params:\n  train.itrs: {type: int, low: 1, high: 2}\n")
    assert main(["tune", "--space", str(p), "--trials", "1", "--out", str(tmp_path / "x")]) == 2
    assert "did you mean 'train.iters'" in capsys.readouterr().err
    assert main(["tune", "--space", "nope", "--trials", "1"]) == 2


def test_an_objective_no_trial_would_measure_is_refused_before_any_trial(tmp_path, capsys):
    """w1 comes from the evaluations: at eval.every above train.iters every trial would train
    to its end unscored, so the study refuses to start (one line, exit 2)."""
    p = write_space(tmp_path)
    assert main(["tune", "--space", str(p), "--trials", "1", "--out", str(tmp_path / "x"), "--set", "eval.every=40"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.strip().endswith(
        "the objective w1 is measured by evaluations, but eval.every=40 > train.iters=30: no trial would be scored; "
        "set eval.every to at most train.iters (e.g. --set eval.every=7)")
    assert not (tmp_path / "x").exists()
    assert main(["tune", "--space", str(p), "--trials", "1", "--out", str(tmp_path / "x"), "--set", "eval.every=0"]) == 2
    assert "but eval.every=0: no trial would be scored" in capsys.readouterr().err


def test_a_trial_left_unscored_is_one_line_with_its_reason_and_no_trial_scored_exits_1(tmp_path):
    """When a param moves train.iters the check is the trials' own: each unscored trial is the
    study's one line with its reason (Optuna's traceback of it is dropped); a study with no
    scored trial exits 1."""
    moved = SPACE.replace("penalty.weight: {type: float, low: 1.0, high: 20.0, when: {loss.name: wasserstein}}",
                          "train.iters: {type: int, low: 3, high: 4}").replace("eval: {every: 10, n: 200}",
                                                                             "eval: {every: 10, n: 200}\n  ")
    p = write_space(tmp_path, moved)
    # a real process: Optuna's log handler holds the stderr of the process that made it
    proc = subprocess.run([sys.executable, "-m", "ganforge", "tune", "--space", str(p), "--trials", "1",
                           "--out", str(tmp_path / "s")], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    out, err = proc.stdout, proc.stderr
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "failed with" not in err
    line = [x for x in err.splitlines() if x.startswith("trial 0: fail w1=- ")]
    assert len(line) == 1 and line[0].endswith("metric 'w1' was not measured (set eval.every in the space's base config)")
    assert "study s: 1 fail" in out


def test_shipped_spaces_load():
    for name in ("optimizers", "gp", "batch-lr"):
        s = load_space(name)
        assert s.params and s.metric == "fid"


def test_two_workers_share_one_study(tmp_path):
    """Two worker processes, one SQLite study: both workers' trials land in it."""
    space = write_space(tmp_path)
    folder = tmp_path / "shared"
    code = main(["tune", "--space", str(space), "--trials", "4", "--out", str(folder), "--workers", "2"])
    assert code == 0
    st = optuna.load_study(study_name="shared", storage=f"sqlite:///{folder / 'study.db'}")
    trials = st.get_trials(deepcopy=False)
    assert len(trials) >= 4 and all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)


@pytest.fixture
def fresh_postgres():
    """A new, empty PostgreSQL database for one test (dropped after), so that two workers
    really race to create Optuna's schema, as two machines on a new database do."""
    import sqlalchemy

    base = sqlalchemy.engine.make_url(os.environ["GANFORGE_TEST_POSTGRES"])
    name = f"ganforge_test_{os.getpid()}"
    admin = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.skipif(not os.environ.get("GANFORGE_TEST_POSTGRES"), reason="set GANFORGE_TEST_POSTGRES=URL (CI starts a server)")
def test_two_workers_on_postgres(tmp_path, fresh_postgres):
    url = fresh_postgres
    space = write_space(tmp_path)
    name = f"pg-{os.getpid()}"
    procs = [subprocess.Popen([sys.executable, "-m", "ganforge", "tune", "--space", str(space), "--trials", "4",
                               "--out", str(tmp_path / f"w{i}"), "--storage", url, "--study", name])
             for i in range(2)]
    assert all(p.wait(timeout=600) == 0 for p in procs)
    st = optuna.load_study(study_name=name, storage=url)
    trials = st.get_trials(deepcopy=False)
    dirs = {Path(t.user_attrs["run_dir"]).parent.parent.name for t in trials}
    assert len(trials) >= 4 and dirs == {"w0", "w1"}  # both workers' trials are in the one study


def test_report_and_runs_listing(tmp_path, capsys):
    space = write_space(tmp_path)
    folder = tmp_path / "study"
    run_trials(space, 2, folder, seed=0, log=lambda m: None)
    assert main(["report", str(folder), "--out", str(tmp_path / "rep")]) == 0
    html = (tmp_path / "rep" / "index.html").read_text()
    import re

    imgs = re.findall(r'<img src="([^"]+)"', html)
    assert imgs and all((tmp_path / "rep" / i).is_file() for i in imgs)
    assert "Optimization history" in html and 'class="diff"' in html
    assert main(["runs", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "trial_0000" in out and "best_w1" in out


CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(tmp_path):
    import functools
    import http.server
    import threading

    space = write_space(tmp_path)
    folder = tmp_path / "study"
    run_trials(space, 2, folder, seed=0, log=lambda m: None)
    rep = tmp_path / "rep"
    assert main(["report", str(folder), "--out", str(rep)]) == 0

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(rep)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/index.html"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chrome'}", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=5000"]
    try:
        dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
        shot = tmp_path / "report.png"
        subprocess.run(flags + ["--window-size=1200,1500", f"--screenshot={shot}", url], capture_output=True,
                       timeout=120)
    finally:
        srv.shutdown()
        srv.server_close()
    assert 'data-images="ok"' in dom.stdout, dom.stdout[-500:]
    import re

    assert not re.search(r"CONSOLE.*(Uncaught|Error|Failed)", dom.stderr), dom.stderr[-800:]
    assert shot.is_file() and shot.stat().st_size > 10000
    if os.environ.get("GANFORGE_SAVE_SCREENSHOT"):
        import shutil

        shutil.copyfile(shot, os.environ["GANFORGE_SAVE_SCREENSHOT"])


def test_set_overrides_the_space_base(tmp_path):
    s = load_space(write_space(tmp_path), ["train.iters=17", "data.toy=grid25"])
    assert s.base["train"]["iters"] == 17 and s.base["data"]["toy"] == "grid25"
    with pytest.raises(Exception, match="did you mean"):
        load_space(write_space(tmp_path), ["train.iter=7"])


def test_storage_survives_another_process_creating_the_schema_at_the_same_moment(tmp_path, monkeypatch):
    # two machines starting one study on a fresh database: the slower CREATE TYPE fails with
    # a duplicate error (seen on PostgreSQL); the second try finds the schema and succeeds
    from sqlalchemy.exc import IntegrityError, OperationalError

    from ganforge.errors import ConfigError
    from ganforge.tune import runner

    real, calls = optuna.storages.RDBStorage, []

    def racing(url, **kw):
        calls.append(url)
        if len(calls) == 1:
            raise IntegrityError("CREATE TYPE studydirection ...", {}, Exception("duplicate key value"))
        return real(url, **kw)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    monkeypatch.setattr(runner.time, "sleep", lambda s: None)
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert isinstance(runner.open_storage(url), real) and len(calls) == 2
    # a persistent duplicate error is raised after the last attempt, not looped on forever;
    # any other database error (no server, bad URL) is raised at once
    for error, attempts, tries in ((IntegrityError, 3, 3), (OperationalError, 5, 1)):
        calls.clear()

        def failing(url, **kw):
            calls.append(url)
            raise error("statement", {}, Exception("from the driver"))

        monkeypatch.setattr(optuna.storages, "RDBStorage", failing)
        with pytest.raises(ConfigError, match="--storage sqlite"):  # one line for the user, never a traceback
            runner.open_storage(url, attempts=attempts)
        assert len(calls) == tries, error
