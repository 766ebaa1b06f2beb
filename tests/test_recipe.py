"""The modern recipe's pieces against hand-computed values: relativistic losses, R1+R2 on
a linear critic, differentiable augmentation, ADA's controller, EMA half-life, the
lazy-regularization optimizer correction, the points dataset, coverage warnings."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from conftest import tiny_config
from ganforge import api
from ganforge.augment import AdaController, Augment, cutout, translation
from ganforge.config import AugmentConfig, Config, DataConfig
from ganforge.data import load_dataset
from ganforge.errors import ConfigError, DataError
from ganforge.objectives import LOSSES, build_penalty
from ganforge.optim import EMA
from ganforge.resolve import resolve_config
from ganforge.train.health import HealthMonitor


def sp(x):  # softplus by hand
    return math.log1p(math.exp(x))


# ---------------------------------------------------------------- losses
def test_rpgan_values():
    r, f = torch.tensor([1.0, 2.0]), torch.tensor([0.0, 3.0])
    loss = LOSSES.get("rpgan")
    assert loss.relativistic
    assert loss.d(r, f).item() == pytest.approx((sp(-1.0) + sp(1.0)) / 2, abs=1e-6)
    assert loss.g(f, r).item() == pytest.approx((sp(1.0) + sp(-1.0)) / 2, abs=1e-6)
    # pairing matters: swapping which real meets which fake changes the value
    assert loss.d(r, f.flip(0)).item() == pytest.approx((sp(-(1 - 3.0)) + sp(-(2 - 0.0))) / 2, abs=1e-6)


def test_ragan_values():
    r, f = torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0])  # mean real 1.5, mean fake 2
    loss = LOSSES.get("ragan")
    want_d = (sp(-(1 - 2.0)) + sp(-(2 - 2.0))) / 2 + (sp(0 - 1.5) + sp(4 - 1.5)) / 2
    want_g = (sp(-(0 - 1.5)) + sp(-(4 - 1.5))) / 2 + (sp(1 - 2.0) + sp(2 - 2.0)) / 2
    assert loss.d(r, f).item() == pytest.approx(want_d, abs=1e-6)
    assert loss.g(f, r).item() == pytest.approx(want_g, abs=1e-6)


# ---------------------------------------------------------------- several regularizers
def test_r1_plus_r2_on_a_linear_critic():
    lin = nn.Linear(3, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -2.0, 2.0]]))  # ||w||^2 = 9 ; grad of D is w everywhere
    critic = lambda x: lin(x).squeeze(1)  # noqa: E731
    real, fake = torch.randn(5, 3), torch.randn(5, 3)
    r1 = build_penalty("r1")(critic, real, fake)
    assert r1.value.item() == pytest.approx(0.5 * 9)
    both = build_penalty("r1+r2", factors=[1.0, 2.0])(critic, real, fake)
    assert both.value.item() == pytest.approx(0.5 * 9 + 2 * 0.5 * 9)
    assert both.stats["penalty_r1"].item() == pytest.approx(4.5) and both.stats["penalty_r2"].item() == pytest.approx(4.5)
    assert both.stats["r1_grad_norm"].item() == pytest.approx(3.0)
    both.value.backward()  # differentiable w.r.t. the critic: d/dw (1.5 ||w||^2) = 3 w
    assert torch.allclose(lin.weight.grad, 3 * lin.weight.detach())


def test_penalty_term_errors():
    with pytest.raises(ConfigError, match="did you mean 'r2'"):
        resolve_config(config={"penalty": {"name": "r1+r3"}})
    with pytest.raises(ConfigError, match="term_weights has 1 values"):
        resolve_config(config={"penalty": {"name": "r1+r2", "term_weights": [1.0]}})


def test_decay_over_a_fixed_span():
    from ganforge.objectives import Observation, build_schedule

    cfg = Config.from_dict({"penalty": {"name": "r1+r2", "weight": 1.0, "weight_min": 0.1, "schedule": "cosine",
                                        "decay_steps": 100}}).penalty
    s = build_schedule(cfg)
    assert s.decide(Observation(0, 10000, math.nan)).weight == pytest.approx(1.0)
    assert s.decide(Observation(50, 10000, math.nan)).weight == pytest.approx(0.1 + 0.9 * 0.5)
    assert s.decide(Observation(100, 10000, math.nan)).weight == pytest.approx(0.1)
    assert s.decide(Observation(5000, 10000, math.nan)).weight == pytest.approx(0.1)
    # a fixed span counts steps only, whatever share of a time budget is used
    assert s.decide(Observation(50, 10000, math.nan, frac=0.9)).weight == pytest.approx(0.1 + 0.9 * 0.5)


def test_decay_over_the_run_follows_the_time_budget():
    from ganforge.objectives import Observation, build_schedule

    cfg = Config.from_dict({"penalty": {"name": "r1", "weight": 1.0, "weight_min": 0.0, "schedule": "linear"}}).penalty
    s = build_schedule(cfg)
    assert s.decide(Observation(25, 100, math.nan)).weight == pytest.approx(0.75)  # steps alone
    assert s.decide(Observation(25, 10**9, math.nan, frac=0.6)).weight == pytest.approx(0.4)


# ---------------------------------------------------------------- augmentation
def fixed(value):
    return lambda shape: torch.full(shape, value)


def test_translation_shifts_by_whole_pixels_and_pads_with_zero():
    x = torch.arange(16.0).view(1, 1, 4, 4) + 1
    cfg = AugmentConfig(translation=0.25)  # at most 1 pixel on a side of 4; u=1-eps -> shift +1
    y = translation(x, fixed(0.999), cfg)
    assert torch.equal(y[0, 0, 1:, 1:], x[0, 0, :3, :3])
    assert torch.equal(y[0, 0, 0], torch.zeros(4)) and torch.equal(y[0, 0, :, 0], torch.zeros(4))
    assert torch.equal(translation(x, fixed(0.5), cfg), x)  # u=0.5 -> shift 0


def test_cutout_erases_a_square_of_the_stated_side():
    x = torch.ones(2, 3, 8, 8)
    y = cutout(x, fixed(0.5), AugmentConfig(cutout=0.5))
    assert (y == 0).sum().item() == 2 * 3 * 4 * 4


def test_augment_keeps_shapes_and_gradients(tmp_path):
    class Rng:
        g = torch.Generator().manual_seed(0)

        def uniform(self, shape, like):
            return torch.rand(shape, generator=self.g)

    aug = Augment(AugmentConfig(ops=["translation", "cutout", "color"], p=0.5), is_image=True)
    assert aug.ops == ["translation", "cutout", "brightness", "saturation", "contrast"]
    x = torch.randn(16, 3, 8, 8, requires_grad=True)
    y = aug(x, Rng())
    assert y.shape == x.shape
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ConfigError, match="did you mean 'cutout'"):
        Augment(AugmentConfig(ops=["cutot"]), is_image=True)
    with pytest.raises(ConfigError, match="works on images"):
        Augment(AugmentConfig(ops=["cutout"]), is_image=False)


def test_adaptive_augmentation_follows_adas_p_not_its_start_value():
    class Rng:
        g = torch.Generator().manual_seed(0)

        def uniform(self, shape, like):
            return torch.rand(shape, generator=self.g)

    aug = Augment(AugmentConfig(ops=["cutout"], adaptive=True, p=0.0), is_image=True)
    x = torch.ones(8, 1, 8, 8)
    assert torch.equal(aug(x, Rng()), x)  # p starts at 0: nothing applied
    aug.ada.p = 1.0  # ADA raised it
    assert (aug(x, Rng()) == 0).any()


def test_ada_moves_p_toward_the_target():
    ada = AdaController(AugmentConfig(adaptive=True, p=0.5, target=0.6, interval=2, speed_img=100))
    for _ in range(2):  # D sure of every real: r = 1 > 0.6 -> p up by 2 steps x 10 images / 100
        ada.observe(torch.ones(10))
    assert ada.last_r == 1.0 and ada.p == pytest.approx(0.7)
    for _ in range(2):  # r = -1 < 0.6 -> down
        ada.observe(-torch.ones(10))
    assert ada.p == pytest.approx(0.5)
    for _ in range(20):
        ada.observe(-torch.ones(10))
    assert ada.p == 0.0  # clamped
    ada2 = AdaController(AugmentConfig(adaptive=True, p=0.5, target=0.6, interval=2, speed_img=100))
    ada2.load_state_dict(ada.state_dict())
    assert ada2.state_dict() == ada.state_dict()


# ---------------------------------------------------------------- EMA half-life, lazy correction
def test_ema_half_life_arithmetic():
    m = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        m.weight.zero_()
    ema = EMA(m, halflife_img=100, rampup=None)
    with torch.no_grad():
        m.weight.fill_(1.0)
    for i in range(10):  # 10 updates of 10 images = one half-life: the old weight keeps 1/2
        ema.update(m, batch=10, images_seen=(i + 1) * 10)
    assert ema.module.weight.item() == pytest.approx(0.5, abs=1e-6)
    ramp = EMA(m, halflife_img=100, rampup=0.05)
    assert ramp.beta(10, 100) == pytest.approx(0.5 ** (10 / 5))  # half-life capped at 0.05 x 100 images
    assert ramp.beta(10, 10**6) == pytest.approx(0.5 ** (10 / 100))


def test_lazy_regularization_corrects_the_d_optimizer(tmp_path):
    cfg = tiny_config(tmp_path, penalty={"name": "r1", "every": 4, "weight": 1.0},
                      optim={"d": {"lr": 1e-3, "betas": [0.0, 0.99]}})
    from ganforge.train.loop import Trainer

    c = Config.from_dict(cfg)
    t = Trainer(c, load_dataset(c.data))
    t.train_step()
    group = t.opt_d.param_groups[0]
    assert group["lr"] == pytest.approx(1e-3 * 4 / 5)
    assert group["betas"] == pytest.approx((0.0, 0.99 ** 0.8))
    assert t.opt_g.param_groups[0]["lr"] == pytest.approx(c.optim.g.lr)
    c.penalty.lazy_correction = False
    t2 = Trainer(c, load_dataset(c.data))
    assert t2.opt_d.param_groups[0]["lr"] == pytest.approx(1e-3)


# ---------------------------------------------------------------- the loop with the recipe
def recipe(tmp_path, **extra):
    return tiny_config(
        tmp_path, data={"name": "digits"}, loss={"name": "rpgan"},
        penalty={"name": "r1+r2", "weight": 0.1, "weight_min": 0.01, "schedule": "cosine", "decay_steps": 15},
        augment={"ops": ["translation", "color"], "adaptive": True, "p": 0.2, "interval": 2, "speed_img": 500},
        train={"ema_halflife_kimg": 0.5, "n_critic": 1}, optim={"g": {"betas": [0.0, 0.99]}, "d": {"betas": [0.0, 0.99]}},
        **extra)


def test_recipe_trains_and_resumes_exactly(tmp_path):
    straight = api.train(recipe(tmp_path / "a", out=str(tmp_path / "a")), log=lambda m: None)
    assert straight.status == "finished"
    recs = [r for r in api.RunDir(straight.run_dir).read_metrics() if "augment_p" in r]
    assert recs and any(r["augment_p"] != 0.2 for r in recs)  # ADA moved p
    assert all("penalty_r1" in r and "penalty_r2" in r for r in recs)
    half = recipe(tmp_path / "b", out=str(tmp_path / "b"))
    half["train"]["iters"] = 10
    api.train(half, log=lambda m: None)
    resumed = api.train(resume=tmp_path / "b", overrides=["train.iters=20"], log=lambda m: None)
    a = torch.load(straight.checkpoint, weights_only=True)
    b = torch.load(resumed.checkpoint, weights_only=True)
    for k in a["G"]:
        assert torch.equal(a["G"][k], b["G"][k]), k
    for k in a["ema"]:
        assert torch.equal(a["ema"][k], b["ema"][k]), k
    assert a["augment"] == b["augment"]


def test_time_budget_stops_the_run(tmp_path):
    res = api.train(tiny_config(tmp_path, train={"iters": 10**6, "max_seconds": 0.5}), log=lambda m: None)
    assert res.status == "finished" and "time budget" in res.reason
    assert 0.5 <= res.elapsed < 5 and 0 < res.step < 10**6


# ---------------------------------------------------------------- points
def test_points_from_npy_and_csv(tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[10.0, 0.0], [20.0, 5.0]])
    pts = centres[rng.integers(0, 2, 400)] + 0.1 * rng.standard_normal((400, 2))
    np.save(tmp_path / "p.npy", pts)
    ds = load_dataset(DataConfig(name="points", file=str(tmp_path / "p.npy"), centres=centres.tolist(), spread=0.1))
    assert ds.x.abs().max() <= 0.8 + 1e-6 and ds.x.shape == (400, 2)
    back = ds.x.double() * ds.info["scale"] + ds.info["offset"].double()
    assert np.allclose(back.numpy(), pts, atol=1e-4)
    from ganforge.metrics.toy import mode_metrics

    m = mode_metrics(ds.x, ds.info["centres"], ds.info["std"])
    assert m["modes_covered"] == 2 and m["high_quality"] > 0.95
    (tmp_path / "p.csv").write_text("x,y\n" + "\n".join(f"{a},{b}" for a, b in pts))
    ds2 = load_dataset(DataConfig(name="points", file=str(tmp_path / "p.csv")))
    assert torch.allclose(ds2.x, ds.x, atol=1e-5)


def test_points_errors(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2\n3,abc\n")
    with pytest.raises(DataError, match="not a table of numbers"):
        load_dataset(DataConfig(name="points", file=str(tmp_path / "bad.csv")))
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(DataError, match="NaN"):
        load_dataset(DataConfig(name="points", file=str(tmp_path / "nan.npy")))
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError):
        load_dataset(DataConfig(name="points", file=str(tmp_path / "obj.npy")))
    with pytest.raises(ConfigError, match="needs data.file"):
        load_dataset(DataConfig(name="points"))
    np.save(tmp_path / "ok.npy", np.zeros((5, 3)))
    with pytest.raises(ConfigError, match="2 coordinate.*the points have 3"):
        load_dataset(DataConfig(name="points", file=str(tmp_path / "ok.npy"), centres=[[0.0, 0.0]], spread=0.1))


# ---------------------------------------------------------------- coverage warnings
def test_coverage_warnings_fall_and_stall():
    h = HealthMonitor(stall_evals=3)
    assert h.check_coverage({"modes_covered": 5, "modes_total": 8}) == []
    assert h.check_coverage({"modes_covered": 6, "modes_total": 8}) == []
    w = h.check_coverage({"modes_covered": 4, "modes_total": 8})
    assert len(w) == 1 and "falling" in w[0] and "4/8" in w[0]
    assert h.check_coverage({"modes_covered": 4, "modes_total": 8}) == []  # said once, not every time
    w = h.check_coverage({"modes_covered": 6, "modes_total": 8})
    assert len(w) == 1 and "stalled" in w[0]
    h2 = HealthMonitor(stall_evals=2)
    for _ in range(3):
        out = h2.check_coverage({"modes_covered": 8, "modes_total": 8})
    assert out == []  # complete coverage never stalls
    h3 = HealthMonitor()
    h3.check_coverage({"recall": 0.6, "classes_hit": 10}, classes=10)
    w = h3.check_coverage({"recall": 0.45, "classes_hit": 8}, classes=10)
    assert any("recall" in m for m in w) and any("classes generated 8/10" in m for m in w)


# ---------------------------------------------------------------- critic lost
def _critic_records(h: HealthMonitor, steps, gap: float, g_norm: float) -> list[tuple[int, str]]:
    out = []
    for s in steps:
        out += [(s, w) for w in h.check_record({"step": s, "loss_d": 0.69, "loss_g": 0.69, "d_real": 0.3 + gap,
                                                 "d_fake": 0.3, "grad_norm_g": g_norm})]
    return out


def test_critic_lost_warns_once_after_500_flat_steps_with_a_silent_generator():
    h = HealthMonitor()
    h.set_loss(wasserstein=False)
    assert _critic_records(h, range(10, 110, 10), gap=2.0, g_norm=1.2) == []  # a working start: largest norm 1.2
    # flat from step 110: D(real) = D(fake) to 0.001 and G's norm 0.006 = 0.5% of 1.2
    w = _critic_records(h, range(110, 2000, 10), gap=0.001, g_norm=0.006)
    assert [s for s, _ in w] == [610]  # 500 steps after the stretch began, and once
    assert "critic lost" in w[0][1] and "since step 110" in w[0][1] and "0.5%" in w[0][1] and "warmup" in w[0][1]
    # a blip of separation does not re-arm it ...
    assert _critic_records(h, [2000], gap=0.5, g_norm=0.5) == []
    assert _critic_records(h, range(2010, 2600, 10), gap=0.001, g_norm=0.006) == []
    # ... a recovery as long as the stretch does: the next loss is reported again
    assert _critic_records(h, range(2600, 3110, 10), gap=0.5, g_norm=0.5) == []
    assert [s for s, _ in _critic_records(h, range(3110, 3700, 10), gap=0.001, g_norm=0.006)] == [3610]


def test_critic_lost_needs_both_signs_and_a_logit_loss():
    # D(real) = D(fake) alone is a converged toy run (grid25 sat under 0.02 for 1,100 steps
    # while G's gradient grew): no warning
    h = HealthMonitor()
    h.set_loss(wasserstein=False)
    assert _critic_records(h, range(10, 3000, 10), gap=0.001, g_norm=0.3) == []
    # a silent G with a separating D: no warning
    h = HealthMonitor()
    h.set_loss(wasserstein=False)
    _critic_records(h, [10], gap=2.0, g_norm=1.2)
    assert _critic_records(h, range(20, 3000, 10), gap=0.5, g_norm=0.006) == []
    # a Wasserstein critic's D(real) - D(fake) is a distance that rightly reaches 0
    h = HealthMonitor()
    h.set_loss(wasserstein=True)
    _critic_records(h, [10], gap=2.0, g_norm=1.2)
    assert _critic_records(h, range(20, 3000, 10), gap=0.001, g_norm=0.006) == []
    # a flat stretch cut by a checkpoint goes on where it stopped
    h = HealthMonitor()
    h.set_loss(wasserstein=False)
    _critic_records(h, [10], gap=2.0, g_norm=1.2)
    _critic_records(h, range(20, 300, 10), gap=0.001, g_norm=0.006)
    h2 = HealthMonitor()
    h2.set_loss(wasserstein=False)
    h2.load_state_dict(h.state_dict())
    assert [s for s, _ in _critic_records(h2, range(300, 800, 10), gap=0.001, g_norm=0.006)] == [520]


# ---------------------------------------------------------------- data recipes
def test_cli_starts_toy_data_from_its_recipe_and_keeps_presets_and_user_keys():
    from ganforge.resolve import resolve_config

    toy = resolve_config(overrides=["data.name=toy"])
    assert toy.loss.name == "rpgan" and toy.penalty.name == "r1+r2" and toy.train.n_critic == 1
    tuned = resolve_config(overrides=["data.name=toy", "penalty.weight=0.3", "train.n_critic=3"])
    assert tuned.loss.name == "rpgan" and tuned.train.n_critic == 3 and tuned.penalty.weight == 0.3  # recipe kept
    mine = resolve_config(overrides=["data.name=toy", "loss.name=hinge", "train.n_critic=3"])
    # another loss is another method: the recipe goes whole, the defaults and the user's keys stay
    assert mine.loss.name == "hinge" and mine.train.n_critic == 3 and mine.penalty.name == "gp"
    classic = resolve_config("wgan-gp-mnist")  # a named preset is taken as it is
    assert classic.loss.name == "wasserstein" and classic.train.n_critic == 5
    assert resolve_config().loss.name == Config().loss.name  # digits: no recipe listed (yet)
    assert resolve_config(overrides=["data.name=toy"], data_recipes=False).loss.name == "wasserstein"


def test_a_run_that_misses_modes_is_not_silent(tmp_path):
    # weight-clipped WGAN trained with plain SGD on ring8 covers 2-3 of the 8 modes and
    # stays there; the monitor counts modes every sample_every steps (metrics.jsonl) and
    # says so: first a dropped mode, then coverage stalled short of 8
    cfg = tiny_config(tmp_path, penalty={"name": "clip"},
                      optim={"g": {"name": "sgd", "lr": 0.05}, "d": {"name": "sgd", "lr": 0.05}},
                      train={"iters": 200, "sample_every": 10, "log_every": 10})
    res = api.train(cfg, log=lambda m: None)
    counts = [r["modes_covered"] for r in api.RunDir(res.run_dir).read_metrics() if "modes_covered" in r]
    assert len(counts) == 20 and max(counts) <= 4
    said = [w for w in res.warnings if "coverage" in w]
    assert any("stalled: modes covered" in w and "/8" in w for w in said), (counts, res.warnings)
    logged = [r["warning"] for r in api.RunDir(res.run_dir).read_metrics() if "warning" in r]
    assert any("stalled" in w for w in logged)
