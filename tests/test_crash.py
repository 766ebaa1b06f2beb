"""Real processes: SIGKILL at a random point then resume equals an uninterrupted run;
SIGINT saves a checkpoint and says how to resume."""
import random
import signal
import subprocess
import sys
import time

import torch

from ganforge.train.checkpoint import load_latest
from ganforge.train.rundir import iter_metrics

ARGS = ["--data", "toy", "--set", "data.n_samples=512", "--set", "model.g_hidden=[32,32]",
        "--set", "model.d_hidden=[32,32]", "--set", "train.tensorboard=false", "--n-critic", "2",
        "--batch-size", "32", "--log-every", "2", "--sample-every", "1000", "--ckpt-every", "4", "--quiet",
        "--device", "cpu", "--threads", "1"]


def cmd(*a):
    return [sys.executable, "-m", "ganforge", "train", *ARGS, *a]


def losses(run):
    return [(r["step"], r["loss_d"], r["loss_g"]) for r in iter_metrics(run / "metrics.jsonl") if "loss_d" in r]


def wait_for_checkpoint(run, proc, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if (run / "checkpoints" / "manifest.json").exists() or proc.poll() is not None:
            return
        time.sleep(0.05)


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    iters = "400"
    ref = tmp_path / "ref"
    # the reference runs beside the killed run (each on one thread): the two share nothing
    # but the machine, and the comparison is bit for bit, so the order cannot matter
    r_ref = subprocess.Popen(cmd("--iters", iters, "--out", str(ref)), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    run = tmp_path / "killed"
    p = subprocess.Popen(cmd("--iters", iters, "--out", str(run)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_checkpoint(run, p)
    time.sleep(random.Random().uniform(0.0, 1.0))
    p.send_signal(signal.SIGKILL)
    p.wait()
    _, ref_err = r_ref.communicate(timeout=300)
    assert r_ref.returncode == 0, ref_err
    r = subprocess.run([sys.executable, "-m", "ganforge", "train", "--resume", str(run), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert losses(run) == losses(ref)
    a, _ = load_latest(ref / "checkpoints")
    b, _ = load_latest(run / "checkpoints")
    assert a["step"] == b["step"] == int(iters)
    for net in ("G", "D"):
        assert all(torch.equal(a[net][k], b[net][k]) for k in a[net])


def test_sigint_checkpoints_and_says_how_to_resume(tmp_path):
    run = tmp_path / "int"
    p = subprocess.Popen(cmd("--iters", "100000", "--out", str(run)), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_for_checkpoint(run, p)
    # the step-0 checkpoint exists before the first step: wait for a logged step, so the
    # interrupt lands mid-training (sent at once, it could stop the run at step 0)
    t0 = time.time()
    while not (run / "metrics.jsonl").exists() and p.poll() is None and time.time() - t0 < 120:
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert f"ganforge train --resume {run}" in out
    st, _ = load_latest(run / "checkpoints")
    import json

    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "interrupted" and status["step"] == st["step"] > 0
