"""Readings of the paper beside IVGP: IVGP-0 (zero-centred penalty at the moving points)
and IVGP with the distance measured on held-out reals."""
import pytest
import torch
import torch.nn as nn

from conftest import tiny_config
from ganforge import api
from ganforge.config import Config
from ganforge.errors import ConfigError
from ganforge.objectives import build_penalty


class Fixed:
    """A RandomSource that always returns the same U value."""

    def __init__(self, u):
        self.u = u

    def uniform(self, shape, like):
        return torch.full(shape, self.u)


def critic():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    return lambda x: net(x).squeeze(1)


def test_gp0_on_the_real_points_is_r1_bit_for_bit():
    d = critic()
    real, fake = torch.randn(6, 3), torch.randn(6, 3)
    gp0 = build_penalty("gp0")(d, real, fake, eps_low=1.0, rng=Fixed(0.3))  # eps ~ U[1, 1]: on the reals
    r1 = build_penalty("r1")(d, real, fake)
    assert torch.equal(gp0.value, r1.value)


def test_gp0_on_a_linear_critic_is_half_the_squared_weight_norm_anywhere():
    lin = nn.Linear(3, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[2.0, 0.0, -1.0]]))
    res = build_penalty("gp0")(lambda x: lin(x).squeeze(1), torch.randn(4, 3), torch.randn(4, 3), rng=Fixed(0.5))
    assert res.value.item() == pytest.approx(0.5 * 5.0)
    assert res.stats["eps_mean"].item() == pytest.approx(0.5)


def test_holdout_distance_needs_a_holdout():
    with pytest.raises(ConfigError, match="needs held-out data"):
        Config.from_dict({"penalty": {"schedule": "ivgp", "ivgp": {"distance": "holdout"}}})


def test_ivgp_on_held_out_distance_trains_logs_and_resumes_exactly(tmp_path):
    def cfg(out, iters):
        c = tiny_config(tmp_path, data={"name": "digits", "holdout": 100},
                        penalty={"name": "gp0", "schedule": "ivgp", "weight_min": 1.0,
                                 "ivgp": {"distance": "holdout"}},
                        train={"iters": iters}, out=str(tmp_path / out))
        return c

    straight = api.train(cfg("a", 20), log=lambda m: None)
    recs = [r for r in api.RunDir(straight.run_dir).read_metrics() if "ivgp_rho" in r]
    assert recs and all("wasserstein_holdout" in r for r in recs)
    assert all(r["penalty_weight"] >= 1.0 for r in recs)  # lambda_min > 0 holds
    api.train(cfg("b", 10), log=lambda m: None)
    resumed = api.train(resume=tmp_path / "b", overrides=["train.iters=20"], log=lambda m: None)
    a = torch.load(straight.checkpoint, weights_only=True)
    b = torch.load(resumed.checkpoint, weights_only=True)
    for k in a["D"]:
        assert torch.equal(a["D"][k], b["D"][k]), k
