"""Each loss against values computed by hand from its formula."""
import math

import pytest
import torch

from ganforge.objectives import LOSSES

R = torch.tensor([2.0, -1.0])  # discriminator outputs on real samples
F = torch.tensor([0.5, -3.0])  # on fake samples


def sp(x):  # softplus, by hand
    return math.log1p(math.exp(x))


def test_wasserstein():
    L = LOSSES.get("wasserstein")
    assert L.d(R, F).item() == pytest.approx((0.5 - 3.0) / 2 - (2.0 - 1.0) / 2)  # -1.75
    assert L.g(F).item() == pytest.approx(1.25)
    assert L.wasserstein


def test_minimax_and_nonsaturating():
    d_expected = (sp(-2.0) + sp(1.0)) / 2 + (sp(0.5) + sp(-3.0)) / 2
    for name in ("minimax", "nonsaturating"):
        assert LOSSES.get(name).d(R, F).item() == pytest.approx(d_expected, rel=1e-6)
    # saturating: minimise log(1 - sigmoid(f)) = -softplus(f)
    assert LOSSES.get("minimax").g(F).item() == pytest.approx(-(sp(0.5) + sp(-3.0)) / 2, rel=1e-6)
    # non-saturating: minimise -log sigmoid(f) = softplus(-f)
    assert LOSSES.get("nonsaturating").g(F).item() == pytest.approx((sp(-0.5) + sp(3.0)) / 2, rel=1e-6)


def test_label_smoothing_changes_only_the_real_term():
    s = 0.9
    expected = (s * sp(-2.0) + (1 - s) * sp(2.0) + s * sp(1.0) + (1 - s) * sp(-1.0)) / 2 + (sp(0.5) + sp(-3.0)) / 2
    assert LOSSES.get("nonsaturating").d(R, F, 0.9).item() == pytest.approx(expected, rel=1e-6)


def test_lsgan():
    L = LOSSES.get("lsgan")
    assert L.d(R, F).item() == pytest.approx(0.5 * ((1.0 + 4.0) / 2) + 0.5 * ((0.25 + 9.0) / 2))
    assert L.g(F).item() == pytest.approx(0.5 * ((0.25 + 16.0) / 2))


def test_hinge():
    L = LOSSES.get("hinge")
    # relu(1-2)=0, relu(1+1)=2 -> 1 ; relu(1+0.5)=1.5, relu(1-3)=0 -> 0.75
    assert L.d(R, F).item() == pytest.approx(1.75)
    assert L.g(F).item() == pytest.approx(1.25)


def test_unknown_loss_suggests():
    from ganforge.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean 'hinge'"):
        LOSSES.get("hinj")
