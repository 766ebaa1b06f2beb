"""One resolver for every route: the CLI, the API (dict or Config), resume and tune bases
resolve the same intent to the same config; a recipe lies under a command only while the
user keeps its method; validation runs once, after every layer; no import cycle."""
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

import ganforge
from ganforge.cli import main
from ganforge.config import Config, DataConfig
from ganforge.data import load_dataset
from ganforge.errors import ConfigError
from ganforge.resolve import DATA_RECIPES, resolve
from ganforge.train.rundir import RunDir
from ganforge.tune.space import load_space

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import import_graph  # noqa: E402

# toy data, the recipe kept, tiny and fast: what a user types, in three spellings
INTENT = {"data": {"name": "toy", "n_samples": 512},
          "train": {"iters": 2, "batch_size": 32, "log_every": 1, "tensorboard": False, "device": "cpu",
                    "threads": 1, "ema_halflife_kimg": 0.5}}
FLAGS = ["--data", "toy", "--iters", "2", "--batch-size", "32", "--log-every", "1", "--device", "cpu",
         "--threads", "1", "--set", "data.n_samples=512", "--set", "train.tensorboard=false",
         "--set", "train.ema_halflife_kimg=0.5"]


def _stored(run: Path) -> dict:
    d = RunDir(run).read_config()
    d.pop("out")
    return d


def test_cli_api_dict_and_tune_base_train_the_same_config(tmp_path, capsys):
    assert main(["train", *FLAGS, "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    ganforge.train(dict(INTENT, out=str(tmp_path / "api")), log=lambda m: None)
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"base": {"config": INTENT}, "objective": {"metric": "loss_d"},
                                     "params": {"optim.g.lr": {"type": "float", "low": 1e-4, "high": 1e-3}}}))
    tuned = Config.from_dict(load_space(space).base)
    cli, api = _stored(tmp_path / "cli"), _stored(tmp_path / "api")
    assert cli == api
    assert cli["loss"]["name"] == "rpgan" and cli["penalty"]["name"] == "r1+r2"  # the toy recipe is under both
    tuned.out = None
    assert tuned.to_dict() == dict(cli, out=None)
    # and the API takes the Config it is given as it is (the CLI hands it the resolved one)
    res = ganforge.resolve(config=INTENT)
    assert res.recipe == DATA_RECIPES["toy"] and ganforge.resolve(config=res.config).config == res.config


def test_the_paper_method_on_toy_data_drops_the_recipe(capsys):
    assert main(["train", "--data", "toy", "--loss", "wasserstein", "--penalty", "gp", "--penalty-schedule", "ivgp",
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    note, cfg = out.splitlines()[0], Config.from_dict(yaml.safe_load(out))
    assert note.startswith("# no recipe: r3gan-toy's method is rpgan") and "loss.name=wasserstein" in note
    assert cfg.penalty.weight == 10.0 and cfg.penalty.schedule == "ivgp"  # not r3gan-toy's 0.1
    assert cfg.optim.g.betas == [0.5, 0.9] and cfg.optim.d.betas == [0.5, 0.9]  # WGAN-GP's, not (0, 0.99)
    assert cfg.train.n_critic == 5 and cfg.train.ema_halflife_kimg is None
    # the user's own values win over the defaults
    mine = resolve(overrides=["data.name=toy", "penalty.schedule=ivgp", "penalty.weight=3", "optim.g.lr=5e-4"])
    assert mine.recipe is None and mine.config.penalty.weight == 3.0 and mine.config.optim.g.lr == 5e-4
    # a method named through the dict route drops it just the same
    assert resolve(config={"data": {"name": "toy"}, "penalty": {"schedule": "ivgp"}}).recipe is None


def test_dry_run_names_the_recipe_under_a_command(capsys):
    assert main(["train", "--data", "mnist", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == ("# recipe: r3gan-mlp-b256-g1 (the default for data.name=mnist; "
                                                        "your settings on top)")
    assert main(["train", "--data", "mnist", "--loss", "rpgan", "--dry-run"]) == 0  # the recipe's own loss
    assert capsys.readouterr().out.startswith("# recipe: r3gan-mlp-b256-g1 ")
    assert main(["train", "--preset", "wgan-gp-mnist", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("# no recipe: preset wgan-gp-mnist is complete")
    assert main(["train", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("# no recipe for data.name=digits (dataclass defaults)")


def test_a_training_command_says_first_which_recipe_it_starts_from(capsys, tmp_path):
    """Not only --dry-run: `ganforge train` names the config's source on stderr before the
    first step (the same note), and --quiet leaves it out."""
    args = ["train", "--set", "train.iters=1", "--set", "train.threads=1", "--set", "train.tensorboard=false"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "config: no recipe for data.name=digits (dataclass defaults)"
    assert main([*args, "--preset", "r3gan-digits", "--out", str(tmp_path / "b")]) == 0
    assert capsys.readouterr().err.splitlines()[0] == "config: no recipe: preset r3gan-digits is complete"
    assert main([*args, "--quiet", "--out", str(tmp_path / "c")]) == 0
    assert "config:" not in capsys.readouterr().err


def test_stackedmnist_takes_its_own_recipe_the_mnist_one_with_its_rate_warmed_up():
    # at r3gan-mlp-b256's constant Adam 5e-4 the critic stopped separating real from fake
    # on StackedMNIST within 30 steps; the same rate reached over 1,000 steps kept it
    # (docs/results/quality-steps10000.md): r3gan-mlp-stacked-warm differs from that preset
    # only there. The recipe since 2026-12-05 adds two speed switches to it and nothing else:
    # the penalty every 4 critic steps and precision auto (quality.md's notes)
    # (2026-12-05, evening: and the G step reusing the critic's fakes, the same G update)
    stacked = resolve(overrides=["data.name=stackedmnist"])
    assert stacked.recipe == "r3gan-mlp-stacked-lazy-reuse"
    assert stacked.note == ("recipe: r3gan-mlp-stacked-lazy-reuse (the default for data.name=stackedmnist; "
                            "your settings on top)")
    warm = resolve(preset="r3gan-mlp-stacked-warm").config
    assert stacked.config.penalty == replace(warm.penalty, every=4)
    assert stacked.config.train == replace(warm.train, precision="auto", reuse_fakes=True)
    lazy = resolve(preset="r3gan-mlp-stacked-lazy").config  # the recipe before: only reuse_fakes differs
    assert replace(lazy.train, reuse_fakes=True) == stacked.config.train and lazy.penalty == stacked.config.penalty
    for section in ("data", "model", "loss", "augment", "optim", "eval"):
        assert getattr(stacked.config, section) == getattr(warm, section), section
    base = resolve(preset="r3gan-mlp-b256").config
    assert warm.optim.g.lr == warm.optim.d.lr == base.optim.g.lr == 5e-4
    assert warm.optim.g.warmup == warm.optim.d.warmup == 1000
    assert base.optim.g.warmup == base.optim.d.warmup == 0
    for net in ("g", "d"):  # nothing else of the optimizers differs
        s, m = getattr(warm.optim, net), getattr(base.optim, net)
        assert replace(s, warmup=0) == m, net
    for section in ("model", "loss", "penalty", "augment"):
        assert getattr(warm, section) == getattr(base, section), section
    assert warm.train == base.train
    # the user's own rate still wins over the recipe's
    assert resolve(overrides=["data.name=stackedmnist", "optim.d.lr=1e-4"]).config.optim.d.lr == 1e-4


def test_mnist_takes_r3gan_mlp_b256_with_its_gamma_held_at_1():
    # r3gan-mlp-b256's FID levelled off from about when its R1+R2 weight neared 0.1; held at
    # 1 it ended lower at 10,000 steps and in 10 minutes (docs/results/quality.md's notes), so
    # MNIST's recipe is that preset with a constant weight of 1 and nothing else changed
    from ganforge.objectives.schedules import Observation, build_schedule

    mnist = resolve(overrides=["data.name=mnist"])
    base = resolve(preset="r3gan-mlp-b256").config
    assert mnist.recipe == "r3gan-mlp-b256-g1"
    assert mnist.note == "recipe: r3gan-mlp-b256-g1 (the default for data.name=mnist; your settings on top)"
    p, b = mnist.config.penalty, base.penalty
    assert p.schedule == "constant" and p.weight == b.weight == 1.0 and b.weight_min == 0.1
    assert replace(p, schedule=b.schedule, weight_min=b.weight_min, decay_steps=b.decay_steps) == b
    for section in ("data", "model", "loss", "augment", "optim", "train", "eval", "reg"):
        assert getattr(mnist.config, section) == getattr(base, section), section
    # its first cells ran as r3gan-mlp-b256 with penalty.weight_min=1 on top: a cosine from 1
    # to 1, the same weight at every step as the constant, and unlike the preset's own decay
    held = build_schedule(mnist.config.penalty)
    then = build_schedule(replace(base.penalty, weight_min=1.0))
    decay = build_schedule(base.penalty)
    for step in (0, 1250, 2500, 5000, 9999):
        obs = Observation(step=step, total=10000, w=0.0)
        assert held.decide(obs).weight == then.decide(obs).weight == 1.0, step
    assert decay.decide(Observation(step=5000, total=10000, w=0.0)).weight == pytest.approx(0.1)


def test_the_wide_stacked_preset_is_the_recipe_with_only_its_networks_widened():
    # r3gan-mlp-stacked-warm-wide met StackedMNIST's KL target at 10,000 steps; its cells are
    # compared with r3gan-mlp-stacked-warm's (the default until 2026-12-05) as the same recipe
    # on wider networks, so nothing else may differ
    wide = resolve(preset="r3gan-mlp-stacked-warm-wide").config
    warm = resolve(preset="r3gan-mlp-stacked-warm").config
    assert wide.model.g_hidden == [512, 1024, 2048] and wide.model.d_hidden == [1024, 512]
    assert replace(wide.model, g_hidden=warm.model.g_hidden, d_hidden=warm.model.d_hidden) == warm.model
    for section in ("data", "loss", "penalty", "augment", "optim", "train", "eval", "reg"):
        assert getattr(wide, section) == getattr(warm, section), section


def test_an_image_folder_takes_its_recipe_by_image_size_and_colour(capsys, tmp_path):
    # 32 px and smaller: the recipe measured on the suite's 32 px folder of its colour
    # (grey: folder32, colour: folder32c); up to the loader's default size (64 px): the
    # warmed-up recipe measured on folder64 and folder64c; larger: none measured, so the
    # dataclass defaults
    from PIL import Image

    grey, colour = tmp_path / "grey", tmp_path / "colour"
    for folder, mode in ((grey, "L"), (colour, "RGB")):
        (folder / "sub").mkdir(parents=True)
        Image.new(mode, (40, 40)).save(folder / "sub" / "a.png")
    small = resolve(overrides=["data.name=imagefolder", f"data.dir={grey}", "data.size=32"])
    assert small.recipe == "r3gan-mlp-b256-g1" and small.config.loss.name == "rpgan"
    assert small.config.data.name == "imagefolder" and small.config.data.size == 32  # the recipe names no data
    assert small.config.data.channels is None  # read from the files, not written into the config
    assert small.note == "recipe: r3gan-mlp-b256-g1 (the default for data.name=imagefolder at 32 px, grey; your settings on top)"
    lit = resolve(overrides=["data.name=imagefolder", f"data.dir={colour}", "data.size=32"])
    assert lit.recipe == "r3gan-mlp-stacked-warm" and lit.config.optim.g.lr == lit.config.optim.d.lr == 5e-4
    assert lit.config.optim.g.warmup == lit.config.optim.d.warmup == 1000
    assert lit.note.startswith("recipe: r3gan-mlp-stacked-warm (the default for data.name=imagefolder at 32 px, colour;")
    # data.channels says how the loader reads the files, so it decides over the files
    assert resolve(overrides=["data.name=imagefolder", f"data.dir={colour}", "data.size=32",
                              "data.channels=1"]).recipe == "r3gan-mlp-b256-g1"
    # no images to read: taken as colour
    blind = resolve(overrides=["data.name=imagefolder", "data.size=16"])
    assert blind.recipe == "r3gan-mlp-stacked-warm" and "at 16 px, colour (assumed: no image read)" in blind.note
    unset = resolve(overrides=["data.name=imagefolder", f"data.dir={grey}"])  # the loader's 64 px
    assert unset.recipe == "r3gan-mlp-stacked-warm" and unset.config.optim.d.warmup == 1000
    assert unset.note.startswith("recipe: r3gan-mlp-stacked-warm (the default for data.name=imagefolder at 64 px, grey;")
    assert resolve(overrides=["data.name=imagefolder", f"data.dir={colour}", "data.size=64"]).recipe == \
        "r3gan-mlp-stacked-warm"
    large = resolve(overrides=["data.name=imagefolder", f"data.dir={colour}", "data.size=128"])
    assert large.recipe is None and large.config.loss.name == "wasserstein"
    assert large.note == ("no recipe for data.name=imagefolder at 128 px, colour (dataclass defaults: a WGAN-GP "
                          "MLP; folder recipes are measured up to 64 px, and `ganforge presets` lists the "
                          "convolutional ones)")
    assert main(["train", "--data", "imagefolder", "--data-dir", str(grey), "--size", "32", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("# recipe: r3gan-mlp-b256-g1 (the default for data.name=imagefolder at 32 px, grey;")
    # the command: a folder and nothing else starts from a measured recipe
    assert main(["train", "--data", "imagefolder", "--data-dir", str(colour), "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith(
        "# recipe: r3gan-mlp-stacked-warm (the default for data.name=imagefolder at 64 px, colour;")


def test_folder_channels_reads_headers_as_the_loader_counts_channels(tmp_path):
    from PIL import Image

    from ganforge.data.images import folder_channels

    assert folder_channels(None) is None and folder_channels(str(tmp_path / "missing")) is None
    (tmp_path / "notes.txt").write_text("not an image")
    assert folder_channels(str(tmp_path)) is None
    (tmp_path / "bad.png").write_bytes(b"not a png")  # unreadable: the next image decides
    assert folder_channels(str(tmp_path)) is None
    for mode, want, ext in (("LA", 1, "png"), ("P", 3, "png"), ("RGBA", 3, "png"), ("L", 1, "png"),
                            ("RGB", 3, "png"), ("CMYK", 3, "tiff"), ("RGBX", 3, "tiff"), ("F", 1, "tiff")):
        d = tmp_path / mode
        d.mkdir()
        Image.new(mode, (8, 8)).save(d / f"x.{ext}")
        assert folder_channels(str(d)) == want, mode
        x = load_dataset(DataConfig(name="imagefolder", dir=str(d), size=8)).x
        assert x.shape[1] == want, mode  # the loader agrees
    # one colour image among grey ones, not the first: colour, as the loader makes it
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i in range(10):
        Image.new("RGB" if i == 7 else "L", (8, 8)).save(mixed / f"{i}.png")
    assert folder_channels(str(mixed)) == 3
    assert load_dataset(DataConfig(name="imagefolder", dir=str(mixed), size=8)).x.shape[1] == 3


def test_a_folder_without_data_size_trains_at_the_side_that_holds_its_images(tmp_path, capsys):
    """data.size unset: the next side the models take that holds the images' shorter side
    (their crop's), at most 64 px: 28 px digits train at 28 px with MNIST's recipe, not
    blown up to 64 px with another; the loader and the resolver agree."""
    from PIL import Image

    from ganforge.config import IMAGE_SIDES
    from ganforge.data.images import FOLDER_SIZE, SIDE_PROBES, folder_side

    assert FOLDER_SIZE == 64 and IMAGE_SIDES == (8, 16, 28, 32, 64, 128)
    for (w, h), crop, want in (((28, 28), None, 28), ((32, 32), None, 32), ((20, 20), None, 28), ((8, 8), None, 8),
                               ((9, 30), None, 16), ((48, 48), None, 64), ((300, 200), None, 64),
                               ((100, 100), 24, 28), ((100, 100), 90, 64)):
        d = tmp_path / f"{w}x{h}c{crop}"
        d.mkdir()
        Image.new("L", (w, h)).save(d / "a.png")
        assert folder_side(DataConfig(name="imagefolder", dir=str(d), crop=crop)) == want, (w, h, crop)
    d28 = tmp_path / "28x28cNone"
    assert folder_side(DataConfig(name="imagefolder", dir=str(d28), size=64)) == 64  # data.size decides
    assert folder_side(DataConfig(name="imagefolder", dir=str(tmp_path / "missing"))) == 64  # nothing to read
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.png").write_bytes(b"not a png")
    assert folder_side(DataConfig(name="imagefolder", dir=str(tmp_path / "junk"))) == 64
    # mixed sizes: the median shorter side of up to SIDE_PROBES files spread over the sorted
    # listing decides, so a stray first thumbnail does not shrink a folder of 300 px photos
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.new("L", (20, 20)).save(mixed / "a000.png")
    for i in range(1, 60):
        Image.new("L", (300, 200) if i % 3 else (30, 30)).save(mixed / f"a{i:03d}.png")
    assert SIDE_PROBES == 25 and folder_side(DataConfig(name="imagefolder", dir=str(mixed))) == 64
    for i in range(1, 60, 3):  # now two thirds hold 30 px images: their side decides
        Image.new("L", (30, 30)).save(mixed / f"a{i:03d}.png")
        Image.new("L", (30, 30)).save(mixed / f"a{i + 1:03d}.png")
    assert folder_side(DataConfig(name="imagefolder", dir=str(mixed))) == 32
    assert load_dataset(DataConfig(name="imagefolder", dir=str(d28))).x.shape == (1, 1, 28, 28)
    res = resolve(overrides=["data.name=imagefolder", f"data.dir={d28}"])
    assert res.recipe == "r3gan-mlp-b256-g1" and res.config.data.size is None  # read, not written in
    assert main(["train", "--data", "imagefolder", "--data-dir", str(d28), "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith(
        "# recipe: r3gan-mlp-b256-g1 (the default for data.name=imagefolder at 28 px, grey;")


def test_validation_runs_once_after_every_layer():
    # the dict breaks a cross-key rule (weight_min > weight) that an override then fixes
    cfg = resolve(config={"penalty": {"weight": 1.0, "weight_min": 2.0}}, overrides=["penalty.weight=5"]).config
    assert cfg.penalty.weight == 5.0 and cfg.penalty.weight_min == 2.0
    with pytest.raises(ConfigError, match="must not exceed"):
        resolve(config={"penalty": {"weight": 1.0, "weight_min": 2.0}})
    with pytest.raises(ConfigError, match="did you mean 'hinge'"):  # names checked after the ranges
        resolve(overrides=["loss.name=hing"])


def test_resume_resolves_the_stored_config_with_overrides_only(tmp_path):
    res = ganforge.train(dict(INTENT, out=str(tmp_path / "run")), log=lambda m: None)
    again = resolve(overrides=["train.iters=4"], resume=res.run_dir)
    assert again.config.train.iters == 4 and again.config.loss.name == "rpgan" and again.note.startswith("resumed")
    with pytest.raises(ConfigError, match="cannot change the loss section"):
        resolve(overrides=["loss.name=hinge"], resume=res.run_dir)
    with pytest.raises(ConfigError, match="only overrides"):
        resolve(preset="r3gan-toy", resume=res.run_dir)


def test_the_package_has_no_import_cycle():
    graph = import_graph.edges()
    assert "ganforge.config" in graph and len(graph) > 40
    assert import_graph.cycles(graph) == []
    # config.py knows no component: the registries import it, never the reverse
    assert graph["ganforge.config"] <= {"ganforge.errors", "ganforge.registry"}


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path):
    pkg = tmp_path / "ganforge"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..a import x  # lazy, still an edge\n")
    (pkg / "c.py").write_text("from . import a\n")
    g = import_graph.edges(pkg)
    assert g["ganforge.a"] == {"ganforge.sub.b"} and g["ganforge.c"] == {"ganforge.a"}
    assert import_graph.cycles(g) == [["ganforge.a", "ganforge.sub.b"]]


def test_the_conv_preset_is_dcgan_mnist_with_only_the_tutorial_details_changed():
    # dcgan-upconv-mnist's 5,000-step cell ran as dcgan-mnist with these overrides on top
    # (benchmarks/quality.py); the preset must be that config, so its figure stays its own
    up = resolve(preset="dcgan-upconv-mnist").config
    dc = resolve(preset="dcgan-mnist").config
    assert (up.model.name, up.model.d_norm, up.model.init, up.model.d_dropout) == ("upconv", "batch-after", "normal", 0.25)
    assert replace(up.model, name=dc.model.name, d_norm=dc.model.d_norm, init=dc.model.init,
                   d_dropout=dc.model.d_dropout) == dc.model
    assert up.data.size == 32 and replace(up.data, size=dc.data.size) == dc.data
    assert up.train.ema_halflife_kimg == 10
    assert replace(up.train, ema_halflife_kimg=dc.train.ema_halflife_kimg, iters=dc.train.iters) == dc.train
    for section in ("loss", "penalty", "augment", "optim", "eval", "reg"):
        assert getattr(up, section) == getattr(dc, section), section


def test_the_resnet_preset_is_the_mnist_default_on_residual_networks():
    # r3gan-resnet-mnist's figure is the quality suite's r3gan-b256-g1-resnet(-bf16) cell, which
    # ran as r3gan-mlp-b256-g1 with only the model's family and width changed (and 5,000 steps)
    rn = resolve(preset="r3gan-resnet-mnist").config
    mlp = resolve(preset="r3gan-mlp-b256-g1").config
    # (and bf16 on a GPU: precision auto, which is fp32 on a CPU)
    assert (rn.model.name, rn.model.width, rn.train.iters, rn.train.precision) == ("resnet", 32, 5000, "auto")
    assert replace(rn.model, name=mlp.model.name, width=mlp.model.width) == mlp.model
    assert replace(rn.train, iters=mlp.train.iters, precision=mlp.train.precision) == mlp.train
    for section in ("data", "loss", "penalty", "augment", "optim", "eval", "reg"):
        assert getattr(rn, section) == getattr(mlp, section), section
