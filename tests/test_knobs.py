"""Every knob of the tuning guides: each has a test that shows its effect."""
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

import ganforge
from ganforge.config import Config, ModelConfig, OptimizerConfig
from ganforge.errors import ConfigError
from ganforge.data import load_dataset
from ganforge.models import build_models
from ganforge.objectives import LOSSES
from ganforge.optim import EMA, OPTIMIZERS, grad_norm, lr_factor
from ganforge.train import loop as loop_module
from ganforge.train.loop import Trainer
from ganforge.train.rundir import iter_metrics

from conftest import tiny_config


@pytest.mark.parametrize("opt", OPTIMIZERS.names())
@pytest.mark.parametrize("loss", LOSSES.names())
def test_every_optimizer_with_every_loss_trains_20_steps(tmp_path, opt, loss):
    res = ganforge.train(tiny_config(tmp_path, loss={"name": loss}, train={"n_critic": 1, "log_every": 20},
                                     optim={"g": {"name": opt, "lr": 1e-3}, "d": {"name": opt, "lr": 1e-3}},
                                     penalty={"name": "gp" if loss == "wasserstein" else "none"}))
    assert res.status == "finished" and res.step == 20
    assert all(math.isfinite(res.metrics[k]) for k in ("loss_d", "loss_g"))


def test_optimizer_options_reach_torch():
    p = [nn.Parameter(torch.zeros(2))]
    sgd = OPTIMIZERS.get("sgd")(p, OptimizerConfig(name="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3))
    g = sgd.param_groups[0]
    assert (g["momentum"], g["nesterov"], g["weight_decay"]) == (0.9, True, 1e-3)
    adam = OPTIMIZERS.get("adamw")(p, OptimizerConfig(name="adamw", lr=0.1, betas=[0.3, 0.7]))
    assert adam.param_groups[0]["betas"] == (0.3, 0.7)


def test_optimizer_impl_picks_torchs_kernel_and_the_same_update():
    # auto: fused where torch has it (adam, adamw, sgd), torch's default elsewhere
    p = [nn.Parameter(torch.zeros(2))]
    assert OPTIMIZERS.get("adam")(p, OptimizerConfig()).defaults["fused"] is True
    assert OPTIMIZERS.get("sgd")(p, OptimizerConfig(name="sgd", lr=0.1)).defaults["fused"] is True
    assert not OPTIMIZERS.get("rmsprop")(p, OptimizerConfig(name="rmsprop")).defaults.get("fused")
    loop = OPTIMIZERS.get("adam")(p, OptimizerConfig(impl="loop")).defaults
    assert (loop["fused"], loop["foreach"]) == (None, False)
    assert OPTIMIZERS.get("adam")(p, OptimizerConfig(impl="foreach")).defaults["foreach"] is True
    with pytest.raises(ConfigError, match="impl=fused is not available for rmsprop"):
        OPTIMIZERS.get("rmsprop")(p, OptimizerConfig(name="rmsprop", impl="fused"))
    # the kernels differ, the update does not (within float32 rounding), over 20 steps
    out = {}
    for impl in ("loop", "fused", "foreach"):
        torch.manual_seed(0)
        ps = [nn.Parameter(torch.randn(37, 5)), nn.Parameter(torch.randn(5))]
        start = torch.cat([q.detach().flatten() for q in ps])
        opt = OPTIMIZERS.get("adam")(ps, OptimizerConfig(lr=1e-2, betas=[0.0, 0.99], impl=impl))
        g = torch.Generator().manual_seed(1)
        for _ in range(20):
            for q in ps:
                q.grad = torch.randn(q.shape, generator=g)
            opt.step()
        out[impl] = torch.cat([q.detach().flatten() for q in ps])
    assert (out["loop"] - start).abs().max() > 0.05  # the steps moved the weights
    assert torch.allclose(out["loop"], out["fused"], atol=1e-6) and torch.allclose(out["loop"], out["foreach"], atol=1e-6)


def test_optimizer_impl_is_validated():
    with pytest.raises(ConfigError, match="optim.g.impl"):
        Config.from_dict({"optim": {"g": {"impl": "fast"}}})


@pytest.mark.parametrize("sched,step,expected", [
    ("constant", 50, 1.0), ("linear", 50, 0.5), ("linear", 100, 0.0), ("cosine", 50, 0.5),
    ("exponential", 200, 0.9 ** 2), ("step", 25, 0.9 ** 2)])
def test_lr_schedules(sched, step, expected):
    c = OptimizerConfig(schedule=sched, gamma=0.9, step_size=10)
    assert lr_factor(c, step, 100) == pytest.approx(expected)


def test_lr_warmup_then_schedule():
    c = OptimizerConfig(schedule="linear", warmup=10)
    assert lr_factor(c, 0, 110) == pytest.approx(0.1)
    assert lr_factor(c, 9, 110) == pytest.approx(1.0)
    assert lr_factor(c, 60, 110) == pytest.approx(0.5)


@pytest.mark.parametrize("sched,step,time_frac,expected", [
    ("linear", 40, 0.0, 1.0), ("linear", 50, 0.0, 1.0), ("linear", 75, 0.0, 0.5), ("linear", 90, 0.0, 0.2),
    ("linear", 100, 0.0, 0.0), ("cosine", 75, 0.0, 0.5), ("cosine", 60, 0.0, 0.5 * (1 + math.cos(math.pi * 0.2))),
    ("linear", 10, 0.9, 0.2), ("constant", 90, 0.0, 1.0)])
def test_lr_decay_starts_late(sched, step, time_frac, expected):
    # decay_start 0.5: the base rate for the first half of the run, then the decay to 0
    c = OptimizerConfig(schedule=sched, decay_start=0.5)
    assert lr_factor(c, step, 100, time_frac=time_frac) == pytest.approx(expected)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2.0])
def test_lr_decay_start_is_validated(bad):
    with pytest.raises(ConfigError, match=r"optim.d.decay_start must be in \[0, 1\)"):
        Config.from_dict({"optim": {"d": {"decay_start": bad}}})


@pytest.mark.parametrize("sched", ["constant", "exponential", "step"])
def test_lr_decay_start_without_a_decay_is_refused(sched):
    with pytest.raises(ConfigError, match=f"optim.g.decay_start has no effect with optim.g.schedule={sched}"):
        Config.from_dict({"optim": {"g": {"schedule": sched, "decay_start": 0.5}}})
    Config.from_dict({"optim": {"g": {"schedule": "cosine", "decay_start": 0.5}}})  # accepted


@pytest.mark.parametrize("sched,expected", [
    ("linear", 0.25), ("cosine", 0.5 * (1 + math.cos(math.pi * 0.75))), ("constant", 1.0),
    ("exponential", 0.9 ** 0.5), ("step", 0.9 ** 5)])
def test_lr_decays_end_with_the_time_budget(sched, expected):
    # step 50 of a run of 10**9 steps that has used 75% of its time budget: the decays "to
    # the end of the run" follow the time; the per-step ones follow the steps only
    c = OptimizerConfig(schedule=sched, gamma=0.9, step_size=10)
    assert lr_factor(c, 50, 10**9, time_frac=0.75) == pytest.approx(expected)
    # whichever budget is further along decides
    assert lr_factor(OptimizerConfig(schedule="linear"), 80, 100, time_frac=0.5) == pytest.approx(0.2)


def test_lr_decay_reaches_zero_at_the_time_budget(tmp_path, monkeypatch):
    # the training clock is faked (each reading 1 s later than the last), so the test does
    # not depend on how fast this machine runs a step: a slow step on a loaded machine once
    # ended the budget with the last logged rate still at 11% of the base
    ticks = iter(range(10**6))
    monkeypatch.setattr(loop_module, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    res = ganforge.train(tiny_config(tmp_path, optim={"g": {"schedule": "linear", "lr": 1e-3}},
                                     train={"iters": 10**6, "max_seconds": 20.0, "log_every": 1}))
    assert "time budget" in res.reason
    lrs = [r["lr_g"] for r in iter_metrics(res.run_dir / "metrics.jsonl") if "lr_g" in r]
    base = 1e-3
    # the first step runs at the base rate; a step counts at most 1 s (evaluation is taken
    # off the clock), so the last one starts with at least 19 of the 20 s used: rate <= 5%
    assert lrs[0] == pytest.approx(base) and lrs[-1] <= 0.05 * base + 1e-12
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


def test_lr_logged_every_step(tmp_path):
    res = ganforge.train(tiny_config(tmp_path, optim={"g": {"schedule": "linear"}, "d": {"lr": 2e-4}}))
    recs = [r for r in iter_metrics(res.run_dir / "metrics.jsonl") if "lr_g" in r]
    assert recs[-1]["lr_d"] == 2e-4 and recs[0]["lr_g"] > recs[-1]["lr_g"]


def test_grad_clip_logs_preclip_norm_and_clips():
    p = nn.Parameter(torch.zeros(4))
    p.grad = torch.full((4,), 3.0)  # norm 6
    pre = grad_norm([p], 1.0)
    assert pre.item() == pytest.approx(6.0) and p.grad.norm().item() == pytest.approx(1.0, rel=1e-4)


def test_ema_update_is_exact():
    net = nn.Linear(3, 2)
    ema = EMA(net, 0.9)
    before = ema.module.weight.clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update(net)
    assert torch.allclose(ema.module.weight, 0.9 * before + 0.1 * net.weight)
    assert not torch.equal(ema.module.weight, net.weight)


def test_ema_used_for_samples_and_saved(tmp_path):
    res = ganforge.train(tiny_config(tmp_path, train={"ema_decay": 0.5}))
    from ganforge.train.checkpoint import load_latest

    st, _ = load_latest(res.run_dir / "checkpoints")
    assert st["ema"] is not None
    assert any(not torch.equal(st["ema"][k], st["G"][k]) for k in st["G"] if st["G"][k].is_floating_point())


def test_recompute_batchnorm_sets_the_average_of_the_batches_statistics():
    from ganforge.optim import recompute_batchnorm

    net = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1)).eval()
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.fill_(0.0)
    # batch means 1 and 4, unbiased variances 2 and 2: mean 2.5, variance 2
    recompute_batchnorm(net, [(torch.tensor([[0.0], [2.0]]),), (torch.tensor([[3.0], [5.0]]),)])
    bn = net[1]
    assert bn.running_mean.item() == pytest.approx(2.5) and bn.running_var.item() == pytest.approx(2.0)
    assert bn.momentum == 0.1 and not net.training and int(bn.num_batches_tracked) == 2


def _bn_run(tmp_path, mode):
    return ganforge.train(tiny_config(tmp_path / mode, model={"g_norm": "batch"},
                                      train={"ema_decay": 0.9, "ema_batchnorm": mode, "iters": 10}))


def test_the_ema_generator_samples_with_its_own_batchnorm_statistics(tmp_path):
    """recompute measures the EMA weights' statistics on their own outputs; copy keeps the
    live G's; the training (G, D and the averaged weights) is the same either way."""
    from ganforge.api import load_model
    from ganforge.optim import recompute_batchnorm
    from ganforge.train.checkpoint import load_latest

    runs = {m: _bn_run(tmp_path, m) for m in ("copy", "recompute")}
    st = {m: load_latest(r.run_dir / "checkpoints")[0] for m, r in runs.items()}
    for net in ("G", "D"):
        assert all(torch.equal(st["copy"][net][k], st["recompute"][net][k]) for k in st["copy"][net])
    ema_w = [k for k in st["copy"]["ema"] if "running" not in k and "num_batches" not in k]
    assert all(torch.equal(st["copy"]["ema"][k], st["recompute"]["ema"][k]) for k in ema_w)

    loaded = {m: load_model(r.run_dir) for m, r in runs.items()}
    rng = torch.random.get_rng_state()
    samplers = {m: lm.model.sampler for m, lm in loaded.items()}
    assert torch.equal(torch.random.get_rng_state(), rng)  # measuring never moves the training RNG
    live = loaded["copy"].model.G
    mean = lambda g: next(m for m in g.modules() if isinstance(m, nn.BatchNorm1d)).running_mean  # noqa: E731
    assert torch.equal(mean(samplers["copy"]), mean(live))
    assert not torch.allclose(mean(samplers["recompute"]), mean(live))
    import copy as copy_module

    expected = copy_module.deepcopy(samplers["recompute"])
    recompute_batchnorm(expected, loaded["recompute"].model._norm_batches())
    assert torch.equal(mean(samplers["recompute"]), mean(expected))
    z = torch.randn(16, 8)
    assert not torch.allclose(loaded["copy"].model.generate(z), loaded["recompute"].model.generate(z))


def test_a_bad_ema_batchnorm_is_a_config_error(tmp_path):
    with pytest.raises(ganforge.ConfigError, match="ema_batchnorm"):
        Config.from_dict(tiny_config(tmp_path, train={"ema_batchnorm": "average"})).validate()


def test_instance_noise_is_annealed(tmp_path):
    res = ganforge.train(tiny_config(tmp_path, reg={"instance_noise": 0.5}, train={"log_every": 1, "iters": 10}))
    noise = [r["instance_noise"] for r in iter_metrics(res.run_dir / "metrics.jsonl") if "instance_noise" in r]
    assert noise[0] == pytest.approx(0.5) and noise == sorted(noise, reverse=True) and noise[-1] < 0.1


def test_weight_penalties_value():
    cfg = Config.from_dict(tiny_config(__import__("pathlib").Path("/tmp"), reg={"d_l1": 0.1, "d_l2": 0.01}))
    t = Trainer(cfg, load_dataset(cfg.data))
    ws = [p for p in t.D.parameters() if p.dim() > 1]
    expected = 0.1 * sum(w.abs().sum() for w in ws) + 0.01 * sum((w ** 2).sum() for w in ws)
    assert t.weight_penalty(t.D, 0.1, 0.01).item() == pytest.approx(expected.item(), rel=1e-6)
    assert t.weight_penalty(t.D, 0.0, 0.0) is None


def test_l2_penalty_shrinks_critic_weights(tmp_path):
    sgd = {"d": {"name": "sgd", "lr": 0.05}}  # plain SGD: the decay is not normalised away as in Adam
    plain = ganforge.train(tiny_config(tmp_path / "a", penalty={"name": "none"}, optim=sgd, train={"iters": 30}))
    l2 = ganforge.train(tiny_config(tmp_path / "b", penalty={"name": "none"}, optim=sgd, reg={"d_l2": 1.0},
                                    train={"iters": 30}))
    from ganforge.train.checkpoint import load_latest

    norm = lambda d: sum(v.pow(2).sum() for k, v in load_latest(d / "checkpoints")[0]["D"].items() if v.dim() > 1)  # noqa
    assert norm(l2.run_dir) < 0.9 * norm(plain.run_dir)


@pytest.mark.parametrize("init,std", [("normal", 0.02), ("orthogonal", None)])
def test_weight_init(init, std):
    g, d = build_models(ModelConfig(name="dcgan", z_dim=16, width=8, init=init), (1, 16, 16))
    w = d.net[0].weight
    if std:
        assert w.std().item() == pytest.approx(std, rel=0.2) and d.net[0].bias.abs().max() == 0
    else:
        m = g.fc.weight  # (out, in) with out >= in: columns orthonormal
        assert torch.allclose(m.T @ m, torch.eye(m.shape[1]), atol=1e-4)


def test_activation_dropout_spectral_choices():
    g, d = build_models(ModelConfig(name="mlp", z_dim=4, g_act="silu", d_act="tanh", d_dropout=0.3,
                                    g_spectral=True), (2,))
    assert any(isinstance(m, nn.SiLU) for m in g.modules()) and any(isinstance(m, nn.Tanh) for m in d.net)
    assert any(isinstance(m, nn.Dropout) and m.p == 0.3 for m in d.modules())
    assert all(hasattr(m, "parametrizations") for m in g.modules() if isinstance(m, nn.Linear))


def test_separate_batch_sizes(tmp_path):
    cfg = Config.from_dict(tiny_config(tmp_path, train={"d_batch_size": 16, "g_batch_size": 48}))
    t = Trainer(cfg, load_dataset(cfg.data))
    seen = []
    t.D.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0]))
    t.train_step()
    assert seen[0] == 32 and seen[-1] == 48  # critic: real+fake in one forward of 2x16; G step: 48


def test_epochs_set_iters(tmp_path):
    res = ganforge.train(tiny_config(tmp_path, train={"epochs": 1.0, "iters": 999}))
    assert res.step == math.ceil(512 / (32 * 2))


def test_uniform_latent_run(tmp_path):
    assert ganforge.train(tiny_config(tmp_path, model={"latent": "uniform"})).status == "finished"


def test_conditional_rows_read_as_their_classes(tmp_path, capsys):
    """A short conditional run on digits: a classifier trained on the real digits reads
    each row of the class grid as the intended class."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    cfg = {"data": {"name": "digits"}, "model": {"conditional": True, "g_hidden": [128, 256], "d_hidden": [256, 128]},
           "optim": {"g": {"lr": 5e-4}, "d": {"lr": 5e-4}},
           "train": {"iters": 250, "log_every": 50, "sample_every": 250, "ckpt_every": 250, "tensorboard": False,
                     "device": "cpu"}, "out": str(tmp_path / "c")}
    ganforge.train(cfg)
    d = load_digits()
    clf = LogisticRegression(max_iter=2000).fit(d.data / 8 - 1, d.target)
    x = ganforge.sample(tmp_path / "c", n=100, out=tmp_path / "grid.png")  # one row of 10 per class
    pred = clf.predict(x.flatten(1).numpy())
    intended = torch.arange(100) // 10
    assert (pred == intended.numpy()).mean() >= 0.7
    x3 = ganforge.sample(tmp_path / "c", n=40, class_=3)
    assert (clf.predict(x3.flatten(1).numpy()) == 3).mean() >= 0.7
    with pytest.raises(ganforge.ConfigError, match="--class must be in 0..9"):
        ganforge.sample(tmp_path / "c", n=4, class_=12)
    # the CLI passes --class as text: a number is that class, a name of a run without names one line
    from ganforge.cli import main

    assert main(["sample", str(tmp_path / "c"), "--n", "40", "--class", "3", "--out", str(tmp_path / "g3.png")]) == 0
    assert torch.equal(ganforge.sample(tmp_path / "c", n=40, class_="3"), x3)
    assert main(["sample", str(tmp_path / "c"), "--n", "4", "--class", "three"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "--class 'three' is not a class of this run; give a class number (this run's classes have no names)")


def test_decay_start_list_matches_the_schedules():
    # config.py refuses decay_start with schedules it names as not decaying to the end; that
    # list must be exactly the registered schedules on which decay_start changes the rate
    from ganforge.config import _DECAYS_TO_END
    from ganforge.optim import LR_SCHEDULES

    def at_60(name: str, start: float) -> float:
        return lr_factor(OptimizerConfig(schedule=name, decay_start=start), 60, 100)

    moved = {name for name in LR_SCHEDULES.names() if at_60(name, 0.0) != at_60(name, 0.5)}
    assert moved == set(_DECAYS_TO_END)
