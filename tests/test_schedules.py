"""Penalty schedules: IVGP limits, PI direction, decays, state round trips."""
import math

import pytest
import torch

from ganforge.config import PenaltyConfig
from ganforge.objectives import Observation, build_penalty, build_schedule


def cfg(**kw) -> PenaltyConfig:
    c = PenaltyConfig()
    for k, v in kw.items():
        setattr(c, k, v)
    return c


def obs(w, step=0, total=100):
    return Observation(step=step, total=total, w=w)


def test_ivgp_rho_one_equals_wgan_gp_exactly():
    """With rho = 1 the IVGP penalty (weight and points) is WGAN-GP's, bit for bit."""
    s = build_schedule(cfg(schedule="ivgp", weight=10.0))
    dec = s.decide(obs(2.0))  # first observation: d = d_ref -> rho = 1
    assert dec.stats["ivgp_rho"] == 1.0 and dec.eps_low == 0.0 and dec.weight == 10.0
    D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    crit = lambda x: D(x).squeeze(1)  # noqa: E731
    real, fake = torch.randn(16, 1, 2, 2), torch.randn(16, 1, 2, 2)
    gp = build_penalty("gp")
    ref = gp(crit, real, fake, 0.0, torch.Generator().manual_seed(5)).value * 10.0
    got = gp(crit, real, fake, dec.eps_low, torch.Generator().manual_seed(5)).value * dec.weight
    assert torch.equal(ref, got)


def test_ivgp_rho_to_zero_puts_points_on_real_and_lambda_min():
    s = build_schedule(cfg(schedule="ivgp", weight=10.0, weight_min=0.5))
    s.cfg.ivgp.beta = 0.0  # no smoothing: d_t = W_t
    s.decide(obs(4.0))
    dec = s.decide(obs(0.0))
    assert dec.stats["ivgp_rho"] == 0.0
    assert dec.weight == pytest.approx(0.5) and dec.eps_low == pytest.approx(1.0)
    real, fake = torch.randn(32, 3), torch.randn(32, 3)
    from ganforge.objectives.penalties import interpolate

    x, eps = interpolate(real, fake, dec.eps_low)
    assert torch.equal(x, real) and torch.all(eps == 1.0)


def test_ivgp_smoothing_and_reference_by_hand():
    s = build_schedule(cfg(schedule="ivgp", weight=10.0, weight_min=0.0))  # beta 0.9
    s.decide(obs(2.0))  # d=2, ref=2
    dec = s.decide(obs(1.0))  # d = 0.9*2 + 0.1*1 = 1.9
    assert dec.stats["ivgp_distance"] == pytest.approx(1.9)
    assert dec.stats["ivgp_rho"] == pytest.approx(0.95)
    assert dec.weight == pytest.approx(9.5) and dec.eps_low == pytest.approx(0.05)
    dec = s.decide(obs(12.0))  # d = 0.9*1.9 + 1.2 = 2.91 > ref -> ref = 2.91, rho = 1
    assert dec.stats["ivgp_reference"] == pytest.approx(2.91) and dec.stats["ivgp_rho"] == 1.0


def test_ivgp_initial_reference_and_negative_distance():
    s = build_schedule(cfg(schedule="ivgp"))
    s.cfg.ivgp.reference = "initial"
    s.cfg.ivgp.beta = 0.0
    s.decide(obs(2.0))
    assert s.decide(obs(4.0)).stats["ivgp_rho"] == 1.0  # clipped at 1, reference stays 2
    assert s.decide(obs(1.0)).stats["ivgp_rho"] == pytest.approx(0.5)
    assert s.decide(obs(-1.0)).stats["ivgp_rho"] == 0.0  # clipped at 0


def test_ivgp_ignores_non_finite_distance():
    s = build_schedule(cfg(schedule="ivgp"))
    s.decide(obs(2.0))
    d = s.decide(obs(math.nan))
    assert math.isfinite(d.weight) and d.stats["ivgp_distance"] == pytest.approx(2.0)


def test_pi_moves_lambda_the_right_way():
    steep = build_schedule(cfg(schedule="pi", weight=10.0))
    steep.feedback(3.0)  # gradient norm 3 > 1: critic too steep -> more penalty
    assert steep.decide(obs(0.0)).weight > 10.0
    flat = build_schedule(cfg(schedule="pi", weight=10.0))
    flat.feedback(0.2)  # too flat -> less penalty
    assert flat.decide(obs(0.0)).weight < 10.0
    # by hand: e = -0.8, I = -0.8, lambda = 10 + 0.5*(-0.8) + 0.01*(-0.8)
    assert flat.decide(obs(0.0)).weight == pytest.approx(10 - 0.4 - 0.008)


def test_pi_bounds_and_anti_windup():
    s = build_schedule(cfg(schedule="pi", weight=10.0))
    s.cfg.pi.lambda_hi = 12.0
    for _ in range(50):
        s.feedback(5.0)
    assert s.decide(obs(0.0)).weight == 12.0
    integral = s.state_dict()["integral"]
    s.feedback(5.0)
    assert s.state_dict()["integral"] == integral  # frozen while saturated
    s.feedback(0.0)  # error of the other sign is integrated again
    assert s.state_dict()["integral"] < integral


@pytest.mark.parametrize("name,mid", [("linear", 5.0), ("cosine", 5.0)])
def test_decays(name, mid):
    s = build_schedule(cfg(schedule=name, weight=10.0, weight_min=0.0))
    assert s.decide(obs(0.0, step=0, total=100)).weight == pytest.approx(10.0)
    assert s.decide(obs(0.0, step=50, total=100)).weight == pytest.approx(mid)
    assert s.decide(obs(0.0, step=100, total=100)).weight == pytest.approx(0.0, abs=1e-12)
    q = s.decide(obs(0.0, step=25, total=100)).weight
    assert q == pytest.approx(7.5 if name == "linear" else 5 * (1 + math.cos(math.pi / 4)))


@pytest.mark.parametrize("name", ["ivgp", "pi"])
def test_state_round_trip_through_torch_save(name, tmp_path):
    a = build_schedule(cfg(schedule=name))
    for w in (1.0, 3.0, 2.0):
        a.decide(obs(w))
        a.feedback(w)
    torch.save({"s": a.state_dict()}, tmp_path / "s.pt")
    b = build_schedule(cfg(schedule=name))
    b.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True)["s"])
    for w in (0.5, 0.2):
        da, db = a.decide(obs(w)), b.decide(obs(w))
        assert da.weight == db.weight and da.eps_low == db.eps_low
        a.feedback(w)
        b.feedback(w)


def test_unknown_schedule_suggests():
    from ganforge.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean 'ivgp'"):
        build_schedule(cfg(schedule="ivpg"))
