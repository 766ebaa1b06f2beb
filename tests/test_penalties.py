"""Penalties against analytic values: a linear critic D(x) = w.x + b has gradient w
everywhere, so every gradient penalty has a closed form."""
import pytest
import torch
import torch.nn as nn

from ganforge.objectives import build_penalty
from ganforge.objectives.penalties import interpolate


def linear_critic(w):
    lin = nn.Linear(w.numel(), 1)
    with torch.no_grad():
        lin.weight.copy_(w.view(1, -1))
        lin.bias.fill_(0.3)
    return lambda x: lin(x.flatten(1)).squeeze(1), lin


@pytest.mark.parametrize("wnorm", [0.5, 1.0, 3.0])
def test_gp_linear_critic_exact(wnorm):
    w = torch.tensor([3.0, 4.0]) / 5.0 * wnorm
    D, _ = linear_critic(w)
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    res = build_penalty("gp")(D, real, fake)
    assert res.value.item() == pytest.approx((wnorm - 1.0) ** 2, abs=1e-6)
    assert res.stats["gp_grad_norm"].item() == pytest.approx(wnorm, rel=1e-6)
    # directional derivative along (real - fake)/|real - fake| is w.u per sample
    u = (real - fake) / (real - fake).norm(dim=1, keepdim=True)
    assert res.stats["gp_dir_deriv"].item() == pytest.approx((u @ w).mean().item(), rel=1e-5)


def test_gp_on_images_uses_full_input_norm():
    w = torch.full((1, 4, 4), 0.5)  # |w| = 0.5 * 4 = 2
    D, _ = linear_critic(w)
    res = build_penalty("gp")(D, torch.randn(8, 1, 4, 4), torch.randn(8, 1, 4, 4))
    assert res.value.item() == pytest.approx(1.0, abs=1e-6)


def test_lp_is_one_sided():
    D, _ = linear_critic(torch.tensor([0.3, 0.4]))  # norm 0.5 < 1
    x = torch.randn(8, 2)
    assert build_penalty("lp")(D, x, -x).value.item() == pytest.approx(0.0, abs=1e-9)
    D, _ = linear_critic(torch.tensor([1.2, 1.6]))  # norm 2
    assert build_penalty("lp")(D, x, -x).value.item() == pytest.approx(1.0, abs=1e-6)


def test_r1_r2_dragan_linear_values():
    w = torch.tensor([1.2, 1.6])  # norm 2
    D, _ = linear_critic(w)
    x, y = torch.randn(8, 2), torch.randn(8, 2)
    assert build_penalty("r1")(D, x, y).value.item() == pytest.approx(0.5 * 4.0, rel=1e-6)
    assert build_penalty("r2")(D, x, y).value.item() == pytest.approx(0.5 * 4.0, rel=1e-6)
    assert build_penalty("dragan")(D, x, y).value.item() == pytest.approx(1.0, rel=1e-6)


def test_r1_uses_real_and_r2_fake():
    # D(x) = sum x^2 / 2 has gradient x: R1 = 0.5 mean |real|^2, R2 = 0.5 mean |fake|^2
    D = lambda x: 0.5 * (x.flatten(1) ** 2).sum(1)  # noqa: E731
    real, fake = torch.full((4, 3), 1.0), torch.full((4, 3), 2.0)
    assert build_penalty("r1")(D, real, fake).value.item() == pytest.approx(1.5)
    assert build_penalty("r2")(D, real, fake).value.item() == pytest.approx(6.0)


def test_gp_gradient_flows_to_critic():
    D, lin = linear_critic(torch.tensor([3.0, 4.0]))  # norm 5: penalty 16, d/dw = 2 (5-1) w/5
    res = build_penalty("gp")(D, torch.randn(4, 2), torch.randn(4, 2))
    res.value.backward()
    expected = 2 * 4.0 * torch.tensor([3.0, 4.0]) / 5.0
    assert torch.allclose(lin.weight.grad.view(-1), expected, atol=1e-5)


def test_interpolation_is_per_sample_and_in_range():
    real, fake = torch.ones(1000, 1, 3, 3), torch.zeros(1000, 1, 3, 3)
    x, eps = interpolate(real, fake, eps_low=0.6)
    # each sample is constant across its pixels (one eps per sample, not per pixel)
    assert torch.allclose(x.flatten(1).std(1), torch.zeros(1000), atol=1e-7)
    assert eps.min() >= 0.6 and eps.max() <= 1.0
    assert torch.allclose(x.flatten(1)[:, 0], eps)


def test_weight_clipping_bounds_weights():
    net = nn.Linear(10, 5)
    with torch.no_grad():
        net.weight.mul_(100)
    build_penalty("clip", clip=0.01).post_step(net)
    assert net.weight.abs().max() <= 0.01 and net.bias.abs().max() <= 0.01
    assert (net.weight.abs() == 0.01).any()
