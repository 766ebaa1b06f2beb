"""The command line, run as a user would: real processes on tiny data."""
import json
import os
import subprocess
import sys

import pytest

from ganforge.cli import main

FAST = ["--threads", "1", "--set", "model.g_hidden=[32,32]", "--set", "model.d_hidden=[32,32]", "--set", "train.tensorboard=false",
        "--n-critic", "2", "--batch-size", "32", "--log-every", "5", "--sample-every", "10", "--ckpt-every", "10",
        "--quiet"]


def run_cli(*args, cwd=None):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_train_digits_then_resume_then_sample(tmp_path):
    out = tmp_path / "run"
    p = run_cli("train", "--data", "digits", "--iters", "20", "--out", str(out), *FAST)
    assert p.returncode == 0, p.stderr
    assert "run folder:" in p.stdout and "last samples:" in p.stdout
    assert (out / "config.yaml").is_file() and (out / "samples" / "step_000020.png").is_file()
    p = run_cli("train", "--resume", str(out), "--iters", "30", "--quiet")
    assert p.returncode == 0, p.stderr
    ckpt = out / "checkpoints" / "ckpt_0000020.pt"
    assert p.stderr.splitlines()[0] == f"resumed at step 20 of 30 from {ckpt}, with the run's stored config"
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines() if "loss_d" in line]
    assert steps == [5, 10, 15, 20, 25, 30]
    # sample and plot in-process: the run folder written by the real processes above is
    # what they read, and a process start each would only add its import time
    assert main(["sample", str(out), "--n", "16", "--out", str(tmp_path / "g.png")]) == 0
    from PIL import Image

    assert Image.open(tmp_path / "g.png").size[0] > 0
    # a folder: one PNG a sample (as FID tools read them), equal to the API's draw to 8 bits
    assert main(["sample", str(out), "--n", "12", "--seed", "3", "--out", str(tmp_path / "drawn")]) == 0
    import numpy as np

    import ganforge

    files = sorted((tmp_path / "drawn").iterdir())
    assert [f.name for f in files] == [f"{i:06d}.png" for i in range(12)]
    x = ganforge.sample(out, n=12, seed=3)
    got = np.stack([np.asarray(Image.open(f)) for f in files]).astype(np.float32) / 127.5 - 1
    assert np.abs(got - x[:, 0].numpy()).max() <= 1 / 127.5 + 1e-6
    # a folder holding files already: refused, one line, nothing written
    p = run_cli("sample", str(out), "--n", "4", "--out", str(tmp_path / "drawn"))
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "is not an empty folder" in p.stderr
    assert len(list((tmp_path / "drawn").iterdir())) == 12
    # a file type no picture is written as: refused before sampling (it was Pillow's traceback)
    assert main(["sample", str(out), "--out", str(tmp_path / "g.xyz")]) == 2 and not (tmp_path / "g.xyz").exists()
    assert main(["plot", str(out)]) == 0 and (out / "plots" / "training.png").is_file()


def test_mnist_dcgan_runs(tmp_path, mnist_dir):
    out = tmp_path / "m"
    code = main(["train", "--data", "mnist", "--data-dir", str(mnist_dir), "--model", "dcgan", "--iters", "2",
                 "--width", "8", "--out", str(out), "--quiet", "--set", "train.tensorboard=false"])
    assert code == 0
    assert (out / "checkpoints" / "manifest.json").is_file()


def test_dry_run_prints_resolved_config(capsys):
    assert main(["train", "--dry-run", "--loss", "hinge", "--set", "optim.d.lr=4e-4", "--optimizer", "rmsprop"]) == 0
    out = capsys.readouterr().out
    import yaml

    cfg = yaml.safe_load(out)
    assert cfg["loss"]["name"] == "hinge" and cfg["optim"]["d"]["lr"] == 4e-4
    assert cfg["optim"]["g"]["name"] == cfg["optim"]["d"]["name"] == "rmsprop"


def test_preset_and_config_file_precedence(tmp_path, capsys):
    f = tmp_path / "c.yaml"
    f.write_text("train: {iters: 77}\noptim: {g: {lr: 0.003}}\n")
    assert main(["train", "--preset", "wgan-gp-mnist", "--config", str(f), "--iters", "5", "--dry-run"]) == 0
    import yaml

    cfg = yaml.safe_load(capsys.readouterr().out)
    assert cfg["model"]["name"] == "dcgan" and cfg["optim"]["g"]["lr"] == 0.003 and cfg["train"]["iters"] == 5


@pytest.mark.parametrize("args,msg", [
    (["train", "--loss", "hing", "--dry-run"], "did you mean 'hinge'"),
    (["train", "--set", "train.batchsize=3", "--dry-run"], "did you mean 'train.batch_size'"),
    (["train", "--lr", "-1", "--dry-run"], "optim.g.lr must be > 0"),
    (["train", "--batch-size", "0", "--dry-run"], "train.batch_size must be > 0"),
    (["train", "--data", "mnist", "--data-dir", "/nonexistent", "--iters", "1"], "does not exist"),
    (["train", "--resume", "/nonexistent"], "does not exist"),
    (["sample", "/nonexistent"], "does not exist"),
    (["train", "--preset", "nope", "--dry-run"], "unknown preset"),
])
def test_user_errors_are_one_line_exit_2(args, msg, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_mistyped_flag_suggests(tmp_path):
    p = run_cli("train", "--iter", "5", cwd=tmp_path)
    assert p.returncode == 2 and "did you mean --iters" in p.stderr


def test_presets_listed(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "wgan-gp-mnist" in out and "ivgp-mnist" in out


def test_help_groups_options(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for group in ("data:", "model:", "objective and penalty:", "optimization:", "loop:"):
        assert group in out


def test_preset_wgan_gp_mnist_runs(tmp_path, mnist_dir):
    out = tmp_path / "p"
    code = main(["train", "--preset", "wgan-gp-mnist", "--data-dir", str(mnist_dir), "--iters", "2", "--width", "8",
                 "--out", str(out), "--quiet", "--set", "train.tensorboard=false"])
    assert code == 0
    import yaml

    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["model"]["name"] == "dcgan" and cfg["penalty"]["weight"] == 10.0 and cfg["optim"]["d"]["betas"] == [0.5, 0.9]


def test_eval_against_scores_one_folder_of_images_against_another(tmp_path, capsys):
    """Any generator's samples as a folder, scored against a folder of real images in one
    feature space: a folder against itself reads FID 0, a renamed (reordered) copy the same
    as the original, and a run's options or a run folder are refused in one line."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = (load_digits().images * 255 / 16).astype(np.uint8)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, idx in ((a, range(0, 300)), (b, range(300, 700)), (c, range(0, 300))):
        folder.mkdir()
        for i in idx:  # c: a's images under other names, in the reverse order
            Image.fromarray(digits[i]).save(folder / f"{(999 - i) if folder == c else i:04d}.png")

    def fid(x, y, *extra):
        assert main(["eval", str(x), "--against", str(y), *extra]) == 0
        out = capsys.readouterr().out
        assert "wrote" not in out  # prints only: nothing written into a user's folder
        return float(next(line.split()[1] for line in out.splitlines() if line.startswith("fid ")))

    assert abs(fid(a, a)) < 1e-6
    ab = fid(a, b)
    assert ab > 1 and fid(c, b) == pytest.approx(ab, rel=1e-9)
    assert fid(a, b, "--size", "16") != ab  # read at another side: another measure
    for args, msg in ((["--n", "50"], "--n: a run's options"), (["--size", "3"], "--size must be at least 8")):
        assert main(["eval", str(a), "--against", str(b), *args]) == 2
        assert msg in capsys.readouterr().err
    assert main(["eval", str(a), "--size", "16"]) == 2 and "--size goes with --against" in capsys.readouterr().err
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{}")
    assert main(["eval", str(tmp_path / "run"), "--against", str(b)]) == 2
    assert "is a run folder" in capsys.readouterr().err
