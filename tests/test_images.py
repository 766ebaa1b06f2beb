"""The image path: the convolutional families at every size, StackedMNIST and its mode
measures on hand-made histograms, and short end-to-end runs on the new data."""
import dataclasses
import gzip
import math
import struct

import numpy as np
import pytest
import torch

import ganforge
from ganforge.config import DataConfig, ModelConfig
from ganforge.data import load_dataset
from ganforge.data.stacked import stack_digits
from ganforge.metrics.evaluate import classifier_metrics, mode_stats
from ganforge.models import build_models
from ganforge.models.conv import ResidualBlock

SIZES = (8, 16, 28, 32, 64, 128)


# ---------------------------------------------------------------- the networks
def _conv(cin, cout, k=3):
    return k * k * cin * cout + cout


def upconv_counts(z, c, size, w=64):
    """Parameters of upconv's G and D at ``size``, counted by hand from the layout."""
    s0 = {8: 4, 16: 8, 28: 7, 32: 8, 64: 8, 128: 8}[size]
    n_up = round(math.log2(size // s0))
    ch = [w * 2 ** max(n_up - 1 - i, 0) for i in range(n_up)]
    g = z * ch[0] * s0 * s0 + ch[0] * s0 * s0 + 2 * ch[0] * s0 * s0  # Linear, BatchNorm1d
    cin = ch[0]
    for cout in ch:
        g += _conv(cin, cout) + 2 * cout  # conv + BatchNorm2d
        cin = cout
    g += _conv(cin, c)
    n_down, side, d, cin = max(2, int(math.log2(size)) - 1), size, 0, c
    for i in range(n_down):
        d += _conv(cin, 16 * 2 ** i)
        cin, side = 16 * 2 ** i, (side + 1) // 2
    return g, d + cin * side * side + 1


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_upconv_shapes_and_parameter_counts(size, channels):
    g, d = build_models(ModelConfig(name="upconv", z_dim=64), (channels, size, size))
    x = g(torch.randn(5, 64))
    assert x.shape == (5, channels, size, size) and d(x).shape == (5,)
    assert x.abs().max() <= 1.0  # tanh output, the data's range
    want_g, want_d = upconv_counts(64, channels, size)
    assert sum(p.numel() for p in g.parameters()) == want_g
    assert sum(p.numel() for p in d.parameters()) == want_d
    # no transposed convolution anywhere: the checkerboard's source
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())


def test_upconv_at_32px_has_the_tutorial_widths():
    g, d = build_models(ModelConfig(name="upconv", z_dim=100), (1, 32, 32))
    assert [m.out_channels for m in g.modules() if isinstance(m, torch.nn.Conv2d)] == [128, 64, 1]
    assert [m.out_channels for m in d.modules() if isinstance(m, torch.nn.Conv2d)] == [16, 32, 64, 128]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_resnet_shapes_parameter_counts_and_fixup_start(size, channels):
    cfg = ModelConfig(name="resnet", z_dim=32, width=16, blocks=2)
    g, d = build_models(cfg, (channels, size, size))
    x = g(torch.randn(3, 32))
    assert x.shape == (3, channels, size, size) and d(x).shape == (3,)
    blocks = [m for m in (*g.modules(), *d.modules()) if isinstance(m, ResidualBlock)]
    levels = int(round(math.log2(size // (7 if size == 28 else 4)))) + 1
    assert len(blocks) == 2 * 2 * levels  # model.blocks per resolution, in G and in D
    # every block (two 3x3 convs at its width) holds 2 (9 c^2 + c) parameters
    assert sum(sum(p.numel() for p in b.parameters()) for b in blocks) == sum(
        2 * _conv(b.conv1.in_channels, b.conv1.out_channels) for b in blocks)
    # fix-up: each block starts as the identity (its last convolution is zero)
    h = torch.randn(2, blocks[0].conv1.in_channels, 5, 5)
    assert torch.equal(blocks[0](h), h)
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.GroupNorm)) for m in (*g.modules(), *d.modules()))


def test_resnet_first_convs_are_scaled_by_depth():
    torch.manual_seed(0)
    a = ResidualBlock(32, "leakyrelu", 0.2, 1.0).conv1.weight.detach().std()
    torch.manual_seed(0)
    b = ResidualBlock(32, "leakyrelu", 0.2, 16 ** -0.25).conv1.weight.detach().std()
    assert float(b / a) == pytest.approx(0.5, rel=1e-5)


def test_conv_families_take_the_penalties_double_backward():
    for name in ("upconv", "resnet"):
        g, d = build_models(ModelConfig(name=name, z_dim=16, width=16), (3, 28, 28))
        x = torch.randn(4, 3, 28, 28, requires_grad=True)
        (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
        grad.pow(2).sum().backward()  # R1's double backward
        # every weight gets a gradient (a bias cannot: it does not move the input gradient)
        assert all(p.grad is not None for p in d.parameters() if p.dim() > 1)


@pytest.mark.parametrize("name", ["mlp", "dcgan", "upconv", "resnet"])
def test_g_out_linear_swaps_only_g_s_last_tanh_and_keeps_the_checkpoint_layout(name):
    shape = (1, 28, 28)
    torch.manual_seed(0)
    g_tanh, _ = build_models(ModelConfig(name=name, z_dim=8, width=16), shape)
    torch.manual_seed(0)
    g_lin, _ = build_models(ModelConfig(name=name, z_dim=8, width=16, g_out="linear"), shape)
    assert isinstance(list(g_tanh.modules())[-1], torch.nn.Tanh)
    assert isinstance(list(g_lin.modules())[-1], torch.nn.Identity)
    # the same parameters under the same names: the identity holds none
    assert g_tanh.state_dict().keys() == g_lin.state_dict().keys()
    g_lin.load_state_dict(g_tanh.state_dict())
    g_tanh.eval(), g_lin.eval()
    z = torch.randn(6, 8)
    with torch.no_grad():
        assert torch.allclose(g_tanh(z), torch.tanh(g_lin(z)), atol=1e-6)


def test_a_linear_g_s_samples_are_clamped_to_the_data_range_and_a_bad_g_out_is_refused():
    from ganforge.config import Config
    from ganforge.train.model import GANModel
    cfg = Config.from_dict({"data": {"name": "digits"}, "model": {"name": "mlp", "g_out": "linear"},
                            "train": {"device": "cpu"}})
    model = GANModel(cfg, load_dataset(cfg.data), torch.device("cpu"))
    with torch.no_grad():  # push G's output far outside [-1, 1]
        last = [m for m in model.G.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.bias.fill_(5.0)
        last.bias[::2] = -5.0
    x = model.generate(torch.randn(4, cfg.model.z_dim))
    assert x.max().item() == 1.0 and x.min().item() == -1.0
    with pytest.raises(ganforge.ConfigError, match="model.g_out: unknown value 'sigmoid'"):
        build_models(ModelConfig(g_out="sigmoid"), (1, 8, 8))


def test_conv_families_refuse_other_sizes_in_one_line():
    for name in ("upconv", "resnet"):
        with pytest.raises(ganforge.ConfigError, match=f"model {name} supports image sizes"):
            build_models(ModelConfig(name=name), (1, 24, 24))


# ---------------------------------------------------------------- StackedMNIST's measures
def test_mode_stats_on_hand_made_histograms():
    every = mode_stats(np.full(1000, 26))
    assert every == {"modes_covered": 1000, "modes_total": 1000, "mode_kl": 0.0}
    one = mode_stats(np.eye(1000)[7] * 26000)
    assert one["modes_covered"] == 1 and one["mode_kl"] == pytest.approx(math.log(1000))
    half = mode_stats(np.r_[np.full(500, 52), np.zeros(500)])
    assert half["modes_covered"] == 500 and half["mode_kl"] == pytest.approx(math.log(2))
    # 3 of 4 modes at 1/2, 1/4, 1/4: KL = 1/2 log 2 + 2 (1/4 log 1) = 0.3466
    assert mode_stats(np.array([2, 1, 1, 0]))["mode_kl"] == pytest.approx(0.5 * math.log(2))
    with pytest.raises(ValueError):
        mode_stats(np.zeros(10))


def test_classifier_metrics_count_a_mode_seen_once_when_there_are_many():
    logits = np.full((3, 1000), -10.0)
    logits[[0, 1, 2], [5, 5, 999]] = 10.0
    m = classifier_metrics(logits, 1000)
    assert m["modes_covered"] == 2 and m["modes_total"] == 1000
    assert m["mode_kl"] == pytest.approx((2 / 3) * math.log(2 / 3 * 1000) + (1 / 3) * math.log(1 / 3 * 1000))


def _idx_folder(tmp_path, n=60, seed=0):
    """A tiny MNIST folder: each image's pixels hold its digit, so stacks can be checked."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = np.repeat(y[:, None, None] * 25, 28, 1).repeat(28, 2).astype(np.uint8)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + x.tobytes())
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + y.tobytes())
    return x, y


def test_stacked_digits_stack_three_seeded_digits_and_label_the_mode(tmp_path):
    x, y = _idx_folder(tmp_path)
    img, modes = stack_digits(x, y, 200, seed=3)
    assert img.shape == (200, 3, 28, 28) and img.min() >= -1 and img.max() <= 1
    digits = torch.round((img[:, :, 0, 0] + 1) * 127.5 / 25).long()  # each channel's digit, from its pixels
    assert torch.equal(modes, 100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2])
    again, _ = stack_digits(x, y, 200, seed=3)
    other, _ = stack_digits(x, y, 200, seed=4)
    assert torch.equal(img, again) and not torch.equal(img, other)
    ds = load_dataset(DataConfig(name="stackedmnist", dir=str(tmp_path), n_samples=100, holdout=10, size=32))
    assert ds.x.shape == (90, 3, 32, 32) and ds.num_classes == 1000 and ds.holdout_x.shape[0] == 10


def test_stackedmnist_needs_its_folder():
    with pytest.raises(ganforge.ConfigError, match="needs data.dir"):
        load_dataset(DataConfig(name="stackedmnist"))


@pytest.mark.parametrize("model", ["upconv", "resnet"])
def test_short_runs_on_stackedmnist(tmp_path, model):
    (tmp_path / "mnist").mkdir()
    _idx_folder(tmp_path / "mnist")
    res = ganforge.train({"data": {"name": "stackedmnist", "dir": str(tmp_path / "mnist"), "n_samples": 64,
                                   "holdout": 32},
                          "model": {"name": model, "z_dim": 16, "width": 16},
                          "loss": {"name": "rpgan"}, "penalty": {"name": "r1+r2", "weight": 0.1},
                          "train": {"iters": 3, "batch_size": 8, "n_critic": 1, "device": "cpu", "threads": 1,
                                    "tensorboard": False, "log_every": 1, "sample_every": 3, "ckpt_every": 3},
                          "eval": {"every": 3, "n": 32}, "out": str(tmp_path / "run")}, log=lambda m: None)
    assert res.status == "finished" and res.step == 3
    assert res.last_eval["extractor"] == "stacked-lenet" and 1 <= res.last_eval["modes_covered"] <= 32
    x = ganforge.sample(res.run_dir, n=4)
    assert x.shape == (4, 3, 28, 28)


# ---------------------------------------------------------------- batch norm in D (DCGAN's)
@pytest.mark.parametrize("name,shape,expected", [("dcgan", (1, 28, 28), 1), ("upconv", (1, 28, 28), 2),
                                                 ("upconv", (3, 64, 64), 4), ("mlp", (1, 28, 28), 1)])
def test_batch_norm_in_d_follows_every_hidden_layer_but_the_first(name, shape, expected):
    from ganforge.config import ModelConfig

    cfg = ModelConfig(name=name, z_dim=8, width=16, d_norm="batch", g_hidden=[16], d_hidden=[32, 16])
    _, d = build_models(cfg, shape)
    bns = [m for m in d.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert len(bns) == expected  # dcgan 28 px: 2 convs; upconv: 3 at 28 px, 5 at 64 px; mlp: 2 hidden
    assert d(torch.randn(4, *shape)).shape == (4,)


@pytest.mark.parametrize("name,shape", [("upconv", (1, 32, 32)), ("dcgan", (1, 28, 28)), ("mlp", (1, 28, 28))])
def test_batch_after_puts_d_s_batch_norm_after_the_dropout_and_fixes_a_batch_s_mean_output(name, shape):
    from ganforge.config import ModelConfig

    cfg = ModelConfig(name=name, z_dim=8, width=16, d_norm="batch-after", d_dropout=0.25, g_hidden=[16],
                      d_hidden=[32, 16])
    _, d = build_models(cfg, shape)
    mods = list(d.net)
    kinds = [type(m).__name__ for m in mods]
    # each batch norm follows a dropout, and the last hidden operation is one (right before the Linear)
    assert kinds.count("Dropout") == kinds.count("BatchNorm1d" if name == "mlp" else "BatchNorm2d") + 1
    assert all(kinds[i - 1] == "Dropout" for i, k in enumerate(kinds) if k.startswith("BatchNorm"))
    last_bn = max(i for i, k in enumerate(kinds) if k.startswith("BatchNorm"))
    assert all(k in ("Flatten", "Linear") for k in kinds[last_bn + 1:])
    with torch.no_grad():
        # train mode: a batch's last features are normalized by the batch's own statistics, so
        # their mean over the batch (and positions) is the norm's bias, whatever the batch: D
        # can only judge the batch's spread about it
        for x in (torch.randn(16, *shape), torch.rand(16, *shape) * 0.1 + 0.5):
            feats = d.net[:last_bn + 1](x)
            dims = (0,) if feats.dim() == 2 else (0, 2, 3)
            assert torch.allclose(feats.mean(dims), mods[last_bn].bias, atol=1e-5)
        if name == "mlp":  # one value per feature: the mean output itself is fixed
            assert d(torch.randn(16, *shape)).mean().item() == pytest.approx(d(torch.rand(16, *shape)).mean().item(),
                                                                              abs=1e-5)


def test_a_batch_normed_d_sees_real_and_generated_batches_apart():
    from ganforge.data.base import Dataset
    from ganforge.resolve import resolve
    from ganforge.train.loop import Trainer

    cfg = resolve(config={"data": {"name": "digits"}, "model": {"name": "dcgan", "width": 8, "z_dim": 8,
                                                                 "d_norm": "batch"},
                          "loss": {"name": "nonsaturating"}, "penalty": {"name": "none"},
                          "train": {"batch_size": 16, "n_critic": 1, "tensorboard": False}}).config
    x = torch.rand(64, 1, 16, 16) * 2 - 1  # 16 px: two convolutions, batch norm after the second
    t = Trainer(cfg, Dataset("digits", x))
    step = t.stepper
    ctx = step.d_batch_phase(0)
    step.d_main_phase(ctx)
    D = t.model.D
    assert step._d_batch_dependent
    alone = D(ctx.real).mean().item()  # train mode: the real batch normalized by its own statistics
    together = D(torch.cat([ctx.real, ctx.fake]))[:16].mean().item()
    assert ctx.stats["d_real"].item() == pytest.approx(alone, abs=1e-6)
    assert abs(alone - together) > 1e-4  # one forward of both would not be the same thing


def test_batch_norm_in_d_with_a_gradient_penalty_is_one_line_refused(tmp_path):
    import subprocess
    import sys

    from ganforge.errors import ConfigError
    from ganforge.resolve import resolve

    with pytest.raises(ConfigError, match="model.d_norm=batch .* penalty.name=r1"):
        resolve(config={"data": {"name": "digits"}, "model": {"name": "dcgan", "d_norm": "batch"},
                        "penalty": {"name": "r1"}, "loss": {"name": "nonsaturating"}})
    r = subprocess.run([sys.executable, "-m", "ganforge", "train", "--dry-run", "--model", "dcgan",
                        "--set", "model.d_norm=batch"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "penalty.name=gp" in r.stderr


def test_batch_after_in_d_with_a_gradient_penalty_is_refused_as_batch_is():
    from ganforge.errors import ConfigError
    from ganforge.resolve import resolve

    with pytest.raises(ConfigError, match="model.d_norm=batch-after .* penalty.name=r1"):
        resolve(config={"data": {"name": "digits"}, "model": {"name": "upconv", "d_norm": "batch-after"},
                        "penalty": {"name": "r1"}, "loss": {"name": "nonsaturating"}})


def test_minibatch_std_appends_each_group_s_spread_hand_computed():
    from ganforge.models.layers import MinibatchStd

    x = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 4.0], [3.0, 3.0]])
    y = MinibatchStd(2)(x)
    # groups take every 2nd example: {0, 2} has per-feature std (1, 2) -> 1.5; {1, 3} has (1, 1) -> 1
    assert y.shape == (4, 3) and torch.equal(y[:, :2], x)
    assert y[:, 2].tolist() == pytest.approx([1.5, 1.0, 1.5, 1.0], abs=1e-6)
    # a group size that does not divide the batch falls back to the largest common divisor:
    # gcd(2, 3) = 1, a group of one, whose spread is 0 (the sqrt's 1e-8 floor)
    assert MinibatchStd(2)(x[:3])[:, 2].tolist() == pytest.approx([1e-4] * 3, abs=1e-7)
    # images get one more channel, constant over space
    img = torch.randn(8, 3, 5, 5)
    out = MinibatchStd(4)(img)
    assert out.shape == (8, 4, 5, 5) and torch.equal(out[:, :3], img)
    assert torch.equal(out[:, 3], out[:, 3, :1, :1].expand(8, 5, 5))


@pytest.mark.parametrize("name,shape,extra", [("mlp", (3, 28, 28), 1), ("dcgan", (1, 28, 28), 7 * 7),
                                              ("upconv", (3, 32, 32), 2 * 2), ("resnet", (1, 32, 32), 4 * 4)])
def test_d_mbstd_adds_the_layer_before_d_s_output_and_one_input_per_output_position(name, shape, extra):
    from ganforge.models.layers import MinibatchStd, has_minibatch_std

    base = ModelConfig(name=name, z_dim=8, width=16, g_hidden=[16], d_hidden=[32, 16])
    _, d0 = build_models(base, shape)
    _, d4 = build_models(dataclasses.replace(base, d_mbstd=4), shape)
    assert not has_minibatch_std(d0) and has_minibatch_std(d4)
    n0, n4 = (sum(p.numel() for p in d.parameters()) for d in (d0, d4))
    assert n4 - n0 == extra  # the output Linear's one more input per position of its last map
    std_at = [i for i, m in enumerate(d4.net) if isinstance(m, MinibatchStd)]
    assert std_at == [len(d4.net) - (2 if name == "mlp" else 3)]  # then (Flatten,) the output Linear
    x = torch.randn(8, *shape)
    out = d4(x)
    assert out.shape == (8,)
    # example 0's group is {0, 2, 4, 6} (every 2nd of 8 in groups of 4): changing example 2
    # moves D(x_0); changing example 1 (the other group) does not
    x2 = x.clone()
    x2[2] += torch.randn_like(x2[2])
    x1 = x.clone()
    x1[1] += torch.randn_like(x1[1])
    assert abs(d4(x2)[0].item() - out[0].item()) > 1e-6
    assert d4(x1)[0].item() == pytest.approx(out[0].item(), abs=1e-6)


def test_a_d_with_minibatch_std_sees_real_and_generated_batches_apart_and_takes_r1_r2():
    from ganforge.data.base import Dataset
    from ganforge.errors import ConfigError
    from ganforge.resolve import resolve
    from ganforge.train.loop import Trainer

    cfg = resolve(config={"data": {"name": "digits"}, "model": {"name": "mlp", "z_dim": 8, "g_hidden": [16],
                                                                 "d_hidden": [16], "d_mbstd": 4},
                          "loss": {"name": "rpgan"}, "penalty": {"name": "r1+r2"},
                          "train": {"batch_size": 16, "n_critic": 1, "tensorboard": False}}).config
    x = torch.rand(64, 1, 8, 8) * 2 - 1
    t = Trainer(cfg, Dataset("digits", x))
    step = t.stepper
    assert step._d_batch_dependent  # a group's statistics must not mix real and generated images
    ctx = step.d_batch_phase(0)
    step.d_main_phase(ctx)
    alone = t.model.D(ctx.real).mean().item()
    together = t.model.D(torch.cat([ctx.real, ctx.fake]))[:16].mean().item()
    assert ctx.stats["d_real"].item() == pytest.approx(alone, abs=1e-6)
    assert abs(alone - together) > 1e-6
    step.d_reg_phase(ctx, 0, 10, 0.0)
    assert torch.isfinite(ctx.stats["penalty"]) and ctx.stats["penalty"].item() > 0
    with pytest.raises(ConfigError, match="model.d_mbstd must be 0"):
        resolve(config={"model": {"d_mbstd": -1}})
