"""End-to-end training through the API: run folder, determinism, resume equality."""
import json

import pytest
import torch

import ganforge
from ganforge.train.checkpoint import load_latest
from ganforge.train.rundir import iter_metrics

from conftest import tiny_config


def losses(run_dir):
    return [(r["step"], r["loss_d"], r["loss_g"]) for r in iter_metrics(run_dir / "metrics.jsonl") if "loss_d" in r]


def test_toy_run_writes_run_folder(tmp_path):
    res = ganforge.train(tiny_config(tmp_path))
    d = res.run_dir
    assert res.status == "finished" and res.step == 20
    assert (d / "config.yaml").is_file()
    assert [p.name for p in sorted((d / "samples").glob("*.png"))] == [
        "step_000000.png", "step_000010.png", "step_000020.png"]
    recs = [r for r in iter_metrics(d / "metrics.jsonl") if "loss_d" in r]
    assert [r["step"] for r in recs] == [5, 10, 15, 20]
    for key in ("time", "loss_d", "loss_g", "wasserstein", "penalty", "penalty_weight", "lr_g", "lr_d",
                "gp_grad_norm", "gp_dir_deriv", "eps_mean", "eps_std", "grad_norm_d", "grad_norm_g"):
        assert key in recs[-1], key
    assert recs[-1]["penalty_weight"] == 10.0 and recs[-1]["lr_g"] == 1e-4
    state, path = load_latest(d / "checkpoints")
    assert state["step"] == 20 and path.name == "ckpt_0000020.pt"
    assert json.loads((d / "run.json").read_text())["status"] == "finished"
    assert res.metrics["step"] == 20


def test_same_seed_same_losses(tmp_path):
    a = ganforge.train(tiny_config(tmp_path / "a"))
    b = ganforge.train(tiny_config(tmp_path / "b"))
    assert losses(a.run_dir) == losses(b.run_dir)
    c = ganforge.train(tiny_config(tmp_path / "c", train={"seed": 1}))
    assert losses(a.run_dir) != losses(c.run_dir)


@pytest.mark.parametrize("schedule", ["constant", "ivgp", "pi", "constant-fp16"])
def test_resume_equals_straight_run(tmp_path, schedule):
    extra = {"penalty": {"schedule": schedule.split("-")[0]}, "train": {"ema_decay": 0.9}}
    if schedule.endswith("fp16"):  # the grad scalers' state must resume too
        extra["train"]["precision"] = "fp16"
    straight = ganforge.train(tiny_config(tmp_path / "s", **extra))
    half_cfg = tiny_config(tmp_path / "h", **extra)
    half_cfg["train"]["iters"] = 10
    ganforge.train(half_cfg)
    resumed = ganforge.train(resume=tmp_path / "h" / "run", overrides=["train.iters=20"])
    assert resumed.step == 20
    assert losses(straight.run_dir) == losses(resumed.run_dir)
    a, _ = load_latest(straight.run_dir / "checkpoints")
    b, _ = load_latest(resumed.run_dir / "checkpoints")
    for net in ("G", "D", "ema"):
        for k in a[net]:
            assert torch.equal(a[net][k], b[net][k]), (net, k)
    assert a["schedule"] == b["schedule"] and a["scalers"] == b["scalers"]
    times = [r["time"] for r in iter_metrics(resumed.run_dir / "metrics.jsonl") if "loss_d" in r]
    assert times == sorted(times)  # time continues across the resume


def test_resume_truncates_metrics_written_after_checkpoint(tmp_path):
    cfg = tiny_config(tmp_path, train={"ckpt_every": 10, "iters": 20})
    res = ganforge.train(cfg)
    # simulate a crash after step 10's checkpoint: drop the newer checkpoint, keep its metrics
    ck = res.run_dir / "checkpoints"
    (ck / "ckpt_0000020.pt").unlink()
    again = ganforge.train(resume=res.run_dir)
    steps = [r["step"] for r in iter_metrics(again.run_dir / "metrics.jsonl") if "loss_d" in r]
    assert steps == [5, 10, 15, 20]


def test_every_loss_and_penalty_trains(tmp_path):
    for i, (loss, pen) in enumerate([("minimax", "none"), ("nonsaturating", "r1"), ("lsgan", "dragan"),
                                     ("hinge", "r2"), ("wasserstein", "lp"), ("wasserstein", "clip")]):
        res = ganforge.train(tiny_config(tmp_path / str(i), loss={"name": loss}, penalty={"name": pen},
                                         train={"iters": 6, "log_every": 3}))
        assert res.status == "finished" and isinstance(res.metrics["loss_d"], float)


def test_clip_penalty_bounds_critic(tmp_path):
    res = ganforge.train(tiny_config(tmp_path, penalty={"name": "clip", "clip": 0.02}, train={"iters": 5}))
    state, _ = load_latest(res.run_dir / "checkpoints")
    assert max(v.abs().max().item() for v in state["D"].values()) <= 0.02


def test_existing_run_folder_refused(tmp_path):
    ganforge.train(tiny_config(tmp_path, train={"iters": 2}))
    with pytest.raises(ganforge.RunError, match="already holds a run"):
        ganforge.train(tiny_config(tmp_path, train={"iters": 2}))


def test_resume_errors(tmp_path):
    with pytest.raises(ganforge.RunError, match="does not exist"):
        ganforge.train(resume=tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ganforge.RunError, match="not a ganforge run folder"):
        ganforge.train(resume=tmp_path / "empty")
    res = ganforge.train(tiny_config(tmp_path, train={"iters": 2}))
    with pytest.raises(ganforge.ConfigError, match="cannot change the model section"):
        ganforge.train(resume=res.run_dir, overrides=["model.z_dim=9"])


def test_a_ctrl_c_without_signal_handlers_marks_the_run_interrupted_and_it_resumes(tmp_path):
    """The API's default (no signal handlers, as the benchmark studies train) lets a Ctrl-C
    through as KeyboardInterrupt: run.json says interrupted, not crashed, and the run goes
    on from its newest checkpoint to the step asked for."""
    from ganforge.train.loop import Callback

    class CtrlCAt13(Callback):
        def on_step(self, t, stats):
            if t.step == 13:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ganforge.train(tiny_config(tmp_path), extra_callbacks=[CtrlCAt13()], log=lambda m: None)
    run = tmp_path / "run"
    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "interrupted" and status["step"] == 13
    assert status["checkpoint"] == "ckpt_0000010.pt"  # the newest one: where it goes on from
    res = ganforge.train(resume=run, log=lambda m: None)
    assert res.status == "finished" and res.step == 20


def test_a_run_whose_process_is_gone_reads_lost_and_one_still_training_cannot_be_resumed(tmp_path, capsys):
    """run.json names the process that trains the run: after it is gone (killed, or the
    machine restarted) the run reads "lost" in `ganforge runs` and resumes; while it runs,
    a second process's --resume is refused in one line, before anything is written."""
    import os
    import socket
    import subprocess
    import sys

    from ganforge.cli import main
    from ganforge.train.rundir import RunDir, _start_ticks, trainer_fields

    res = ganforge.train(tiny_config(tmp_path, train={"iters": 10, "ckpt_every": 5}), log=lambda m: None)
    run = RunDir(res.run_dir)
    st = run.read_status()
    me = trainer_fields()
    assert st["status"] == "finished" and st["pid"] == os.getpid() and st["host"] == socket.gethostname()
    assert st["boot"] == me["boot"]

    def says(**fields):  # run.json as a training process left it mid-run
        (res.run_dir / "run.json").write_text(json.dumps({**st, "status": "running", "step": 7, **fields}))

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    says(pid=int(gone.stdout))  # a process that has ended
    assert run.live_status()["status"] == "lost" and run.read_status()["status"] == "running"
    assert main(["runs", str(res.run_dir)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[1] == "lost"
    parent = {"pid": os.getppid(), "started": _start_ticks(os.getppid())}  # a live process
    says(**parent)
    assert run.live_status()["status"] == "running"
    says(**parent, boot="another boot")  # its pid, from before a restart
    assert run.live_status()["status"] == "lost"
    says(pid=parent["pid"], started=parent["started"] - 1)  # its pid, taken since by a later process
    assert run.live_status()["status"] == "lost"
    says(**parent, host=socket.gethostname() + "-elsewhere")  # another machine: cannot tell
    assert run.live_status()["status"] == "running"

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        says(pid=sleeper.pid, started=_start_ticks(sleeper.pid))  # alive on this machine, this boot
        assert run.live_status()["status"] == "running"
        before = (res.run_dir / "metrics.jsonl").read_bytes()
        with pytest.raises(ganforge.RunError, match=f"is being trained now by process {sleeper.pid} on this machine"):
            ganforge.train(resume=res.run_dir, overrides=["train.iters=15"], log=lambda m: None)
        assert main(["train", "--resume", str(res.run_dir), "--iters", "15", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ganforge: error: {res.run_dir} is being trained now by process {sleeper.pid}")
        assert err.count("\n") == 1 and (res.run_dir / "metrics.jsonl").read_bytes() == before
    finally:
        sleeper.kill()
        sleeper.wait()
    assert run.live_status()["status"] == "lost"  # its process ended: it goes on
    res2 = ganforge.train(resume=res.run_dir, overrides=["train.iters=15"], log=lambda m: None)
    assert res2.status == "finished" and res2.step == 15


def test_nan_stops_run_and_keeps_last_good_checkpoint(tmp_path):
    # plain SGD at lr 100 with no penalty drives the critic to nan within a few steps
    cfg = tiny_config(tmp_path, penalty={"name": "none"}, optim={"d": {"name": "sgd", "lr": 100.0}},
                      train={"iters": 40, "log_every": 1, "ckpt_every": 1, "max_rollbacks": 0})
    res = ganforge.train(cfg)
    assert res.status == "failed" and res.step < 40
    state, _ = load_latest(res.run_dir / "checkpoints")
    assert all(torch.isfinite(v).all() for v in state["D"].values() if v.is_floating_point())


def test_divergence_guard_rolls_back_with_lower_lr(tmp_path):
    cfg = tiny_config(tmp_path, penalty={"name": "none"}, optim={"d": {"name": "sgd", "lr": 100.0}},
                      train={"iters": 20, "log_every": 1, "ckpt_every": 1, "max_rollbacks": 3,
                             "rollback_lr_factor": 0.001, "keep_ckpts": 4})
    res = ganforge.train(cfg, log=lambda m: None)
    assert res.status == "finished" and res.step == 20
    assert any("rollback 1/3" in w for w in res.warnings)
    recs = [r for r in iter_metrics(res.run_dir / "metrics.jsonl") if "loss_d" in r]
    assert [r["step"] for r in recs] == list(range(1, 21))  # diverged steps were replaced
    assert recs[-1]["lr_d"] < 1.0 and all(r["loss_d"] == r["loss_d"] for r in recs[-5:])
    state, _ = load_latest(res.run_dir / "checkpoints")
    assert state["rollbacks"] >= 1 and state["lr_scale"] < 1


def test_divergence_guard_gives_up_after_n(tmp_path):
    cfg = tiny_config(tmp_path, penalty={"name": "none"}, optim={"d": {"name": "sgd", "lr": 1e6}},
                      train={"iters": 40, "log_every": 1, "ckpt_every": 1, "max_rollbacks": 2,
                             "rollback_lr_factor": 0.9, "keep_ckpts": 4})
    res = ganforge.train(cfg, log=lambda m: None)
    assert res.status == "failed" and sum("rollback" in w for w in res.warnings) == 2


def test_checkpoint_from_incompatible_config(tmp_path):
    res = ganforge.train(tiny_config(tmp_path, train={"iters": 2}))
    cfg = (res.run_dir / "config.yaml").read_text().replace("z_dim: 8", "z_dim: 9")
    (res.run_dir / "config.yaml").write_text(cfg)
    with pytest.raises(ganforge.RunError, match="does not fit this config"):
        ganforge.train(resume=res.run_dir, overrides=["train.iters=4"])
