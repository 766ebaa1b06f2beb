"""The speed switches: each changes what it says and nothing else (lazy penalty, bf16 and
fp16 autocast with grad scalers, channels_last)."""
import math
import sys
from pathlib import Path

import pytest
import torch

import ganforge
from ganforge.config import Config
from ganforge.data import load_dataset
from ganforge.objectives.penalties import input_gradient
from ganforge.train.loop import Trainer
from ganforge.train import model as model_module
from ganforge.train.model import cpu_has_bf16_matmul, resolve_precision  # the real probe, not the patched one
from ganforge.train.rundir import iter_metrics

from conftest import tiny_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from reference import count_flops  # noqa: E402  (the counter the throughput figures use)


def _trainer(tmp_path, **sections) -> Trainer:
    cfg = Config.from_dict(tiny_config(tmp_path, **sections))
    return Trainer(cfg, load_dataset(cfg.data))


def _params(m):
    return [p.detach().clone() for p in m.parameters()]


def test_lazy_penalty_every_k_counts_k_times(tmp_path):
    # every=4 with weight 10 takes its penalty at critic step 0 with weight 40: exactly
    # the step of every=1 with weight 40 (same seed, same draws) when the optimizer
    # correction is off (with it on, D's lr and betas differ: test_recipe.py checks them) ...
    lazy = _trainer(tmp_path / "a", penalty={"name": "gp", "weight": 10.0, "every": 4, "lazy_correction": False})
    full = _trainer(tmp_path / "b", penalty={"name": "gp", "weight": 40.0, "every": 1})
    s_lazy, s_full = lazy.critic_step(0, 20), full.critic_step(0, 20)
    assert "penalty" in s_lazy and float(s_lazy["penalty"]) == float(s_full["penalty"])
    for a, b in zip(_params(lazy.D), _params(full.D), strict=True):
        assert torch.equal(a, b)
    # ... and skips it on the next three critic steps, then takes it again
    took = ["penalty" in lazy.critic_step(0, 20) for _ in range(4)]
    assert took == [False, False, False, True]


def test_bf16_autocast_runs_the_models_in_bfloat16_and_keeps_fp32_weights(tmp_path):
    t = _trainer(tmp_path, train={"precision": "bf16"})
    seen = []
    first = next(m for m in t.D.modules() if isinstance(m, torch.nn.Linear))
    first.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    t.train_step()
    assert seen and set(seen) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in t.D.parameters())
    res = ganforge.train(tiny_config(tmp_path / "run", train={"precision": "bf16"}))
    recs = [r for r in iter_metrics(res.run_dir / "metrics.jsonl") if "loss_d" in r]
    assert res.status == "finished" and all(math.isfinite(r["loss_d"]) for r in recs)


@pytest.mark.parametrize("loss,conditional", [("rpgan", False), ("wasserstein", False), ("rpgan", True)])
def test_reuse_fakes_gives_g_the_gradient_of_a_fresh_forward(tmp_path, loss, conditional):
    """train.reuse_fakes: the G step draws no latent and backpropagates through the last
    critic step's fakes; G has not moved since, so its update equals the one computed by
    hand from a fresh forward of those latents (labels) through the updated D."""
    import copy
    data = {"name": "digits"} if conditional else {}
    t = _trainer(tmp_path, data=data, loss={"name": loss},
                 model={"conditional": conditional, "g_norm": "batch"},
                 optim={"g": {"name": "sgd", "lr": 0.1}}, train={"reuse_fakes": True, "n_critic": 2})
    src = t.stepper.source
    latents, reals = [], []
    draw_z, draw_x = src.latent, src.real
    src.latent = lambda n: latents.append(draw_z(n)) or latents[-1]
    src.real = lambda n: reals.append(draw_x(n)) or reals[-1]
    g0 = copy.deepcopy(t.G)
    t.train_step()
    n_critic = 2
    assert len(latents) == n_critic  # one G forward less: the G step drew no latent
    y_fake = reals[n_critic - 1][1]
    fake = g0(latents[-1], y_fake) if conditional else g0(latents[-1])
    d = (lambda x, y: t.D(x, y)) if conditional else (lambda x, y: t.D(x))
    obj = t.stepper.loss
    if obj.relativistic:
        assert len(reals) == n_critic + 1
        xr, yr = reals[-1]
        loss_g = obj.g(d(fake, y_fake), d(xr, yr).detach())
    else:
        assert len(reals) == n_critic
        loss_g = obj.g(d(fake, y_fake))
    grads = torch.autograd.grad(loss_g, list(g0.parameters()))
    for p0, g, p in zip(g0.parameters(), grads, t.G.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), (p0 - 0.1 * g).detach(), rtol=1e-5, atol=1e-6)
    # a different batch for the two steps has no fakes to share
    with pytest.raises(ganforge.ConfigError, match="train.reuse_fakes needs one batch size"):
        _trainer(tmp_path / "b", train={"reuse_fakes": True, "g_batch_size": 64})


def test_bf16_critic_steps_see_the_weights_of_the_update_before_them(tmp_path):
    # autocast caches its bfloat16 copies of the weights for as long as its context lives:
    # one context around n_critic updates fed the second critic step D's stale copy. Every
    # forward of D's first layer must equal the layer applied with the weights it has then
    # (a large lr makes each update visible in bfloat16).
    t = _trainer(tmp_path, train={"precision": "bf16", "n_critic": 3},
                 optim={"d": {"name": "adam", "lr": 0.05}})
    first = next(m for m in t.D.modules() if isinstance(m, torch.nn.Linear))
    checks = []

    def hook(m, i, o):
        x = i[0].to(torch.bfloat16)
        now = torch.nn.functional.linear(x, m.weight.detach().to(torch.bfloat16), m.bias.detach().to(torch.bfloat16))
        checks.append(torch.allclose(o.detach().float(), now.float(), rtol=1e-2, atol=1e-3))
    first.register_forward_hook(hook)
    w0 = first.weight.detach().clone()
    t.train_step()
    assert not torch.equal(w0, first.weight.detach())  # D did move
    assert len(checks) >= 4 and all(checks)


def test_precision_auto_is_bf16_on_a_bf16_gpu_and_fp32_elsewhere(monkeypatch):
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(model_module, "cpu_has_bf16_matmul", lambda: False)  # a CPU without bf16 units
    assert resolve_precision("auto", cpu) == "fp32"
    for name in ("fp32", "bf16", "fp16"):  # the others are taken as they are, on any device
        assert resolve_precision(name, cpu) == resolve_precision(name, gpu) == name
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", gpu) == "bf16"
    assert resolve_precision("auto", cpu) == "fp32"  # a CPU stays fp32 even beside such a GPU
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", gpu) == "fp32"  # an older GPU without bf16


def test_precision_auto_is_bf16_on_a_cpu_with_bf16_matmul(monkeypatch, tmp_path):
    monkeypatch.setattr(model_module, "cpu_has_bf16_matmul", lambda: True)
    assert resolve_precision("auto", torch.device("cpu")) == "bf16"
    # the flags are read from the kernel's cpuinfo: either instruction set counts, a
    # flag that only starts with the name does not, and no file means no
    info = tmp_path / "cpuinfo"
    for flags, has in (("fpu avx2 avx512f avx512_bf16 avx512_vnni", True), ("fpu amx_tile amx_bf16", True),
                       ("fpu avx2 avx512f avx512_vnni", False), ("fpu avx512_bf16x", False)):
        info.write_text(f"processor\t: 0\nmodel name\t: x\nflags\t\t: {flags}\n")
        assert cpu_has_bf16_matmul(str(info)) is has, flags
    assert cpu_has_bf16_matmul(str(tmp_path / "missing")) is False


def test_precision_auto_on_a_cpu_trains_in_fp32_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(model_module, "cpu_has_bf16_matmul", lambda: False)  # a CPU without bf16 units
    t = _trainer(tmp_path, train={"precision": "auto"})
    assert t.stepper.precision == "fp32" and t.scaler_d is None
    seen = []
    first = next(m for m in t.D.modules() if isinstance(m, torch.nn.Linear))
    first.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    t.train_step()
    assert seen and set(seen) == {torch.float32}
    res = ganforge.train(tiny_config(tmp_path / "run", train={"precision": "auto"}))
    assert res.status == "finished"
    assert "train.precision=auto: fp32 on this cpu device" in capsys.readouterr().out


def test_input_gradient_scaling_returns_the_same_gradient():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    x = torch.randn(8, 5)
    a = input_gradient(lambda v: net(v).squeeze(1), x)
    b = input_gradient(lambda v: net(v).squeeze(1), x, grad_scale=2.0 ** 16)
    torch.testing.assert_close(a, b, rtol=1e-6, atol=0)


def test_fp16_grad_scaler_skips_overflowing_steps_and_lowers_the_scale(tmp_path):
    t = _trainer(tmp_path, train={"precision": "fp16"})
    assert t.scaler_d is not None and t.scaler_g is not None
    # a scale far past float16's range: the first steps overflow, are skipped, and the
    # scaler halves its scale until the gradients fit
    t.scaler_d = torch.amp.GradScaler("cpu", init_scale=2.0 ** 40)
    before = _params(t.D)
    with t.autocast():  # as train_step runs it
        t.critic_step(0, 20)
    assert t.scaler_d.get_scale() < 2.0 ** 40
    assert all(torch.equal(a, b) for a, b in zip(before, _params(t.D), strict=True))  # skipped, not NaN
    with t.autocast():
        for _ in range(60):
            t.critic_step(0, 20)
    assert t.weights_finite() and any(not torch.equal(a, b) for a, b in zip(before, _params(t.D), strict=True))


def test_fp16_run_finishes_and_logs_its_scales(tmp_path, capsys):
    res = ganforge.train(tiny_config(tmp_path, train={"precision": "fp16"}))
    assert "fp16 on a CPU is about 50x slower" in capsys.readouterr().out  # said once, at the start
    recs = [r for r in iter_metrics(res.run_dir / "metrics.jsonl") if "loss_d" in r]
    assert res.status == "finished" and all(math.isfinite(r["loss_d"]) for r in recs)
    assert recs[-1]["grad_scale_d"] > 0 and recs[-1]["grad_scale_g"] > 0


def test_channels_last_same_math_other_layout(tmp_path):
    sec = {"data": {"name": "digits"}, "model": {"name": "dcgan", "width": 8, "z_dim": 8}}
    a = _trainer(tmp_path / "a", **sec)
    b = _trainer(tmp_path / "b", **sec, train={"channels_last": True})
    assert b.D.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert b.x.is_contiguous(memory_format=torch.channels_last)
    sa, sb = a.train_step(), b.train_step()
    for k in ("loss_d", "loss_g", "penalty"):
        assert float(sa[k]) == pytest.approx(float(sb[k]), rel=1e-4, abs=1e-6), k


def _reference_critic(slope: float) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 4, 2, 1), torch.nn.LeakyReLU(slope), torch.nn.Conv2d(8, 16, 4, 2, 1),
                               torch.nn.LeakyReLU(slope), torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 1))


@pytest.mark.parametrize("slope", [0.2, 0.0])
def test_piecewise_linear_activation_same_gradients_less_double_backward_work(slope):
    from ganforge.models.layers import PiecewiseLinear
    from ganforge.objectives.penalties import GradientPenalty

    torch.manual_seed(0)
    ref = _reference_critic(slope)
    ours = _reference_critic(slope)
    ours.load_state_dict(ref.state_dict())
    ours[1], ours[3] = PiecewiseLinear(slope), PiecewiseLinear(slope)
    real, fake = torch.randn(16, 1, 28, 28), torch.randn(16, 1, 28, 28)

    def penalty_grads(net):
        net.zero_grad(set_to_none=True)
        torch.manual_seed(1)  # same interpolation points on both sides
        loss = net(fake).mean() - net(real).mean() + 10 * GradientPenalty()(lambda v: net(v).squeeze(1), real, fake).value
        loss.backward()
        return [p.grad.clone() for p in net.parameters()]

    for a, b in zip(penalty_grads(ref), penalty_grads(ours), strict=True):
        assert torch.equal(a, b)  # the same math, to the bit
    # the work saved: with torch's activation the penalty's second backward also runs the
    # second convolution's full backward (input and weight gradients) on zeros. Its cost by
    # hand: 2 x (forward FLOPs) = 2 x (2 x 16 samples x 16 x 7 x 7 outputs x 8 x 4 x 4 MACs)
    conv_bwd = {"convolution_backward"}
    saved = count_flops(lambda: penalty_grads(ref), only=conv_bwd) - count_flops(lambda: penalty_grads(ours), only=conv_bwd)
    assert saved == 2 * (2 * 16 * 16 * 7 * 7 * 8 * 4 * 4)
    # first and second derivatives of the activation itself, away from the kink
    x = (torch.rand(6, dtype=torch.float64) + 0.1) * torch.tensor([1, -1, 1, -1, 1, -1], dtype=torch.float64)
    x.requires_grad_(True)
    act = PiecewiseLinear(slope)
    assert torch.autograd.gradcheck(act, (x,)) and torch.autograd.gradgradcheck(act, (x,))
    torch.testing.assert_close(act(x), torch.nn.functional.leaky_relu(x, slope), rtol=0, atol=0)
