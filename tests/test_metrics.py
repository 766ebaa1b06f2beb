"""Metrics against references and invariances."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import linalg

from ganforge.metrics import exact_w1, fid_from_features, frechet_distance, kid_from_features, mode_metrics, prdc
from ganforge.metrics.features import EXTRACTORS


def fid_reference(a, b):
    """The textbook formula with scipy.linalg.sqrtm."""
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


@pytest.mark.parametrize("d", [4, 32])
def test_fid_matches_scipy_reference(d):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, d))
    b = rng.normal(size=(400, d)) @ rng.normal(size=(d, d)) * 0.5 + 1.0
    assert fid_from_features(a, b) == pytest.approx(fid_reference(a, b), rel=1e-6)


def test_fid_identity_and_symmetry():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 0.3
    assert fid_from_features(a, a) == pytest.approx(0.0, abs=1e-8)
    assert fid_from_features(a, b) == pytest.approx(fid_from_features(b, a), rel=1e-9)
    # mean shift only: FID = |shift|^2 exactly
    assert fid_from_features(a, a + 2.0) == pytest.approx(8 * 4.0, rel=1e-9)
    mu, s = np.zeros(3), np.eye(3)
    assert frechet_distance(mu, s, mu, 4 * s) == pytest.approx(3 * (1 + 4 - 2 * 2))


def test_kid_symmetric_and_unbiased():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(600, 16)), rng.normal(size=(600, 16))
    ab, _ = kid_from_features(a, b, subsets=10, subset_size=300)
    ba, _ = kid_from_features(b, a, subsets=10, subset_size=300)
    assert ab == pytest.approx(ba, rel=0.3, abs=0.02)
    means = [kid_from_features(rng.normal(size=(400, 16)), rng.normal(size=(400, 16)), 5, 200, seed=s)[0]
             for s in range(10)]
    assert abs(np.mean(means)) < 3 * np.std(means) / np.sqrt(10) + 1e-3  # mean near 0 within its error
    far, _ = kid_from_features(a, b + 1.0, subsets=5, subset_size=300)
    assert far > 10 * abs(np.mean(means))


def test_prdc_self_is_one_and_disjoint_is_zero():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(200, 5))
    r = prdc(a, a, k=5)
    assert r["precision"] == 1.0 and r["recall"] == 1.0 and r["coverage"] == 1.0
    far = prdc(a, a + 100.0, k=5)
    assert far["precision"] == 0.0 and far["recall"] == 0.0 and far["coverage"] == 0.0


def test_toy_metrics():
    centres = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    s = torch.cat([torch.zeros(50, 2), torch.full((50, 2), 5.0)])
    m = mode_metrics(s, centres, std=0.02)
    assert m["modes_covered"] == 1 and m["high_quality"] == 0.5
    a = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    assert exact_w1(a, a.flip(0)) == 0.0
    assert exact_w1(a, a + torch.tensor([0.0, 3.0])) == pytest.approx(3.0)


def test_extractor_eval_mode_and_batch_size_invariance(mnist_dir):
    from ganforge.config import DataConfig
    from ganforge.data import load_dataset

    ext = EXTRACTORS.get("mnist-lenet")()
    assert not ext.net.training
    x = load_dataset(DataConfig(name="mnist", dir=str(mnist_dir), limit=300)).x
    f1, _ = ext.run(x, batch_size=7)
    f2, _ = ext.run(x, batch_size=300)
    assert np.allclose(f1, f2, atol=1e-5)


def test_extractor_checksum_and_accuracy(mnist_dir):
    import json

    from ganforge.config import DataConfig
    from ganforge.data import load_dataset
    from ganforge.metrics.features import WEIGHTS_DIR

    meta = json.loads((WEIGHTS_DIR / "mnist-lenet.json").read_text())
    assert meta["test_accuracy"] > 0.97
    ds = load_dataset(DataConfig(name="mnist", dir=str(mnist_dir), holdout=2000))
    _, logits = EXTRACTORS.get("mnist-lenet")().run(ds.holdout_x)
    acc = (logits.argmax(1) == ds.holdout_y.numpy()).mean()
    assert acc == pytest.approx(meta["test_accuracy"], abs=1e-3)


def test_mnist_fid_orders_real_blur_noise(mnist_dir, tmp_path, monkeypatch):
    from ganforge.config import DataConfig
    from ganforge.data import load_dataset
    from ganforge.metrics import evaluate_samples

    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path))
    ds = load_dataset(DataConfig(name="mnist", dir=str(mnist_dir), holdout=2000))
    real = ds.x[:2000]
    fid = lambda x: evaluate_samples(x, ds.holdout_x, kid_subsets=2)["fid"]  # noqa: E731
    f_real = fid(real)
    f_b1 = fid(F.avg_pool2d(real, 3, 1, 1))
    f_b2 = fid(F.avg_pool2d(real, 5, 1, 2))
    f_shift = fid(torch.roll(real, 3, dims=3))
    f_noise = fid(torch.rand_like(real) * 2 - 1)
    assert f_real < 10
    assert f_real < f_b1 < f_b2 < f_noise
    assert f_real < f_shift < f_noise
    assert any(tmp_path.rglob("*.npz"))  # reference features were cached


def test_digits_extractor_accuracy_and_fid_ordering(tmp_path, monkeypatch):
    import json

    from ganforge.config import DataConfig
    from ganforge.data import load_dataset
    from ganforge.metrics import evaluate_samples
    from ganforge.metrics.evaluate import pick_extractor
    from ganforge.metrics.features import WEIGHTS_DIR

    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path))
    meta = json.loads((WEIGHTS_DIR / "digits.json").read_text())
    ds = load_dataset(DataConfig(name="digits", holdout=297))
    assert pick_extractor(ds.x, "digits") == "digits"
    ext = EXTRACTORS.get("digits")()
    _, logits = ext.run(ds.holdout_x)
    assert (logits.argmax(1) == ds.holdout_y.numpy()).mean() == pytest.approx(meta["test_accuracy"], abs=1e-3)
    fid = lambda x: evaluate_samples(x, ds.holdout_x, extractor="digits", kid_subsets=2)["fid"]  # noqa: E731
    real, blur = fid(ds.x[:297]), fid(F.avg_pool2d(ds.x[:297], 3, 1, 1))
    noise = fid(torch.rand(297, 1, 8, 8) * 2 - 1)
    assert real < blur < noise
    # a 16 px copy of the same digits is read at the extractor's 8 px
    up = load_dataset(DataConfig(name="digits", holdout=297, size=16))
    assert evaluate_samples(up.x[:297], up.holdout_x, extractor="digits", kid_subsets=2)["fid"] < blur


def test_inception_extractor_messages(monkeypatch, tmp_path):
    """Without torch-fidelity: one line saying what to install. With it but no weights
    file: one line saying where to get the weights. With a (stub) network: 2048-d features
    of uint8 RGB images, grey repeated to 3 channels."""
    import sys
    import types

    from ganforge.errors import ConfigError, RunError

    monkeypatch.setitem(sys.modules, "torch_fidelity", None)
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", None)
    with pytest.raises(ConfigError, match=r"pip install 'ganforge\[inception\]'"):
        EXTRACTORS.get("inception")()

    seen = {}

    class Stub(torch.nn.Module):
        def __init__(self, name, features, feature_extractor_weights_path=None):
            super().__init__()
            seen["path"] = feature_extractor_weights_path

        def forward(self, x):
            seen["dtype"], seen["shape"] = x.dtype, tuple(x.shape)
            return x.float().mean((2, 3)).repeat(1, 683)[:, :2048], torch.zeros(len(x), 1008)

    mod = types.ModuleType("torch_fidelity.feature_extractor_inceptionv3")
    mod.FeatureExtractorInceptionV3 = Stub
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", mod)
    with pytest.raises(RunError, match="download https://.*--weights"):
        EXTRACTORS.get("inception")(weights=tmp_path / "missing.pth")
    w = tmp_path / "w.pth"
    w.write_bytes(b"x")
    ext = EXTRACTORS.get("inception")(weights=w)
    f, _ = ext.run(torch.zeros(3, 1, 8, 8))
    assert seen == {"path": str(w), "dtype": torch.uint8, "shape": (3, 3, 8, 8)} and f.shape == (3, 2048)


def test_over_draws_gives_the_median_and_the_spread_of_each_measure():
    from ganforge.metrics.evaluate import over_draws

    draws = [{"fid": 10.0, "classes_hit": 10, "extractor": "mnist-lenet", "ok": True},
             {"fid": 4.0, "classes_hit": 9, "extractor": "mnist-lenet", "ok": True},
             {"fid": 7.0, "classes_hit": 10, "extractor": "mnist-lenet", "ok": False}]
    m = over_draws(draws)
    assert m["fid"] == 7.0 and m["classes_hit"] == 10 and m["repeats"] == 3
    assert m["spread"]["fid"] == {"min": 4.0, "max": 10.0, "sd": 3.0}  # sd of 4, 7, 10 (n-1): 3
    assert m["spread"]["classes_hit"]["min"] == 9.0
    assert m["extractor"] == "mnist-lenet" and m["ok"] is True  # not numbers (bool included): the first draw's
    assert "extractor" not in m["spread"] and "ok" not in m["spread"]
    one = over_draws(draws[:1])
    assert one["fid"] == 10.0 and one["spread"]["fid"]["sd"] == 0.0
    with pytest.raises(ValueError):
        over_draws([])


def test_evaluating_leaves_torch_s_global_random_stream_as_it_was():
    """A loop that evaluates (a curve, a judge) must train as one that does not: building the
    extractor initializes a network, which drew from the global stream before."""
    from ganforge.metrics.evaluate import evaluate_samples

    x, ref = torch.rand(64, 1, 28, 28) * 2 - 1, torch.rand(64, 1, 28, 28) * 2 - 1
    torch.manual_seed(5)
    untouched = torch.rand(3)
    torch.manual_seed(5)
    m = evaluate_samples(x, ref, extractor="mnist-lenet", use_cache=False)
    assert np.isfinite(m["fid"])
    assert torch.equal(torch.rand(3), untouched)


def test_eval_repeats_logs_the_median_of_the_draws_that_ganforge_eval_gives(tmp_path):
    """A curve point with eval.repeats=3 is the median of the three draws at eval.seed,
    eval.seed+1 and +2: the same generator scored afterwards by ganforge.evaluate with
    repeats=3 from that seed gives the same FID and sd; one draw logs no sd."""
    import ganforge

    def run(repeats, name):
        return ganforge.train({"train": {"iters": 4, "batch_size": 16, "device": "cpu", "threads": 1,
                                         "tensorboard": False, "sample_every": 4, "ckpt_every": 4},
                               "eval": {"every": 4, "n": 64, "seed": 7, "repeats": repeats},
                               "out": str(tmp_path / name)}, log=lambda m: None)

    res = run(3, "three")
    again = ganforge.evaluate(res.run_dir, n=64, seed=7, repeats=3, write=False)
    assert res.last_eval["repeats"] == 3
    assert res.last_eval["fid"] == pytest.approx(again["fid"], rel=1e-5)
    assert res.last_eval["fid_sd"] == pytest.approx(again["spread"]["fid"]["sd"], rel=1e-5)
    assert again["spread"]["fid"]["sd"] > 0  # three different draws, so the median is a choice among them
    one = run(1, "one").last_eval
    assert "fid_sd" not in one and "repeats" not in one
    assert one["fid"] == pytest.approx(ganforge.evaluate(tmp_path / "one", n=64, seed=7, write=False)["fid"], rel=1e-5)


def test_eval_repeats_must_be_positive():
    from ganforge.errors import ConfigError
    from ganforge.resolve import resolve

    with pytest.raises(ConfigError, match="eval.repeats must be > 0"):
        resolve(overrides=["eval.repeats=0"])


def test_count_warning_names_the_smaller_side_below_16_images_a_feature():
    """FID's bias falls with the count (docs/results/fid_floor.md): under 16 images a feature
    on either side the record says so; a toy record, which has no features, never does."""
    from ganforge.metrics.evaluate import MIN_PER_FEATURE, count_warning

    rec = {"n_fake": 10000, "n_real": 300, "features": 128, "extractor": "mnist-lenet"}
    assert count_warning(rec).startswith("FID rests on 300 reference images for 128 features (mnist-lenet), 2.3 a feature: ")
    assert count_warning(rec | {"n_real": 2048}) is None  # 16 a feature exactly: enough
    assert count_warning(rec | {"n_real": 2047}) is not None
    assert count_warning(rec | {"n_real": 5000, "n_fake": 640}).startswith("FID rests on 640 samples for 128 features (mnist-lenet), 5.0 a feature")
    assert count_warning({"n_fake": 10, "n_real": 10, "w1": 0.1}) is None
    # over several draws the counts are medians (floats): the line still counts images
    assert count_warning({k: float(v) if k != "extractor" else v for k, v in rec.items()}) == count_warning(rec)
    assert MIN_PER_FEATURE == 16


def test_ganforge_eval_warns_on_stderr_for_too_few_samples_and_keeps_it_in_eval_json(tmp_path, capsys):
    """The warning is one stderr line (the table on stdout stays as it was) and eval.json keeps
    it; at enough samples for the digits extractor's 64 features there is none."""
    import json

    import ganforge
    from ganforge.cli import main

    run = tmp_path / "run"
    ganforge.train({"train": {"iters": 2, "batch_size": 16, "device": "cpu", "threads": 1, "tensorboard": False,
                              "sample_every": 2, "ckpt_every": 2}, "out": str(run)}, log=lambda m: None)
    assert main(["eval", str(run), "--n", "500"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("warning: FID rests on 500 samples for 64 features (digits), 7.8 a feature: ")
    assert "warning" not in out and "features          64" in out
    assert json.loads((run / "eval.json").read_text())["warnings"] == [err.strip()[len("warning: "):]]
    assert main(["eval", str(run), "--n", "1100"]) == 0
    assert capsys.readouterr().err == ""
    assert "warnings" not in json.loads((run / "eval.json").read_text())
