"""A short IVGP run on toy data: lambda falls while the distance falls (from metrics.jsonl)."""
import ganforge
from ganforge.train.rundir import iter_metrics


def test_ivgp_lambda_follows_distance_down(tmp_path):
    cfg = {"data": {"name": "toy", "toy": "ring8", "n_samples": 4000},
           "model": {"name": "mlp", "z_dim": 8, "g_hidden": [64, 64], "d_hidden": [64, 64]},
           "penalty": {"schedule": "ivgp", "weight": 10.0, "weight_min": 0.0},
           "optim": {"g": {"lr": 5e-4}, "d": {"lr": 5e-4}},
           "train": {"iters": 300, "batch_size": 128, "log_every": 1, "sample_every": 300, "ckpt_every": 300,
                     "tensorboard": False, "device": "cpu"},
           "out": str(tmp_path / "run")}
    res = ganforge.train(cfg)
    recs = [r for r in iter_metrics(res.run_dir / "metrics.jsonl") if "ivgp_distance" in r]
    d = [r["ivgp_distance"] for r in recs]
    lam = [r["penalty_weight"] for r in recs]
    rho = [r["ivgp_rho"] for r in recs]
    peak = max(range(len(d)), key=d.__getitem__)
    assert peak < len(d) - 1, "the distance should peak before the end"
    assert d[-1] < 0.8 * d[peak]  # the distributions came closer ...
    assert lam[-1] < 0.8 * lam[peak]  # ... and lambda fell with them
    assert rho[-1] < 0.8 * rho[peak]
    # the penalty points moved toward the real samples: eps ~ U[1 - rho, 1] has mean 1 - rho/2
    for r in recs:
        assert abs(r["eps_mean"] - (1 - r["ivgp_rho"] / 2)) < 0.1
    # lambda = lambda_max * rho, logged values are interval means of the same products
    for r in recs:
        assert abs(r["penalty_weight"] - 10.0 * r["ivgp_rho"]) < 1e-3
