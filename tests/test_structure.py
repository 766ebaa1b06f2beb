"""The ways through the code: callbacks that return requests, registries with help for
every name-valued key (README table in sync), user extractors and metrics."""
import sys
import textwrap

import numpy as np
import pytest
import torch

import ganforge
from ganforge.choices import BEGIN, END, choice_keys, choices_markdown, readme_with_choices
from ganforge.cli import main
from ganforge.config import Config
from ganforge.errors import ConfigError
from ganforge.metrics.evaluate import METRICS, evaluate_samples
from ganforge.metrics.features import build_extractor
from ganforge.train.loop import REQUEST_ORDER, Callback, ExcludeTime, Fail, Measure, Publish, Stop, Trainer, TrainerView, Warn
from ganforge.resolve import finish

from conftest import ROOT, tiny_config


# ---------------------------------------------------------------- callbacks ask, the loop applies
def test_a_callback_cannot_assign_to_the_trainer(tmp_path):
    cfg = Config.from_dict(tiny_config(tmp_path))
    from ganforge.data import load_dataset

    t = Trainer(cfg, load_dataset(cfg.data))
    view = TrainerView(t)
    assert view.step == 0 and view.cfg is cfg  # reads go through
    with pytest.raises(AttributeError, match="return a request"):
        view.best = {"fid": 1.0}
    with pytest.raises(AttributeError, match="return a request"):
        view.excluded = 3.0


def test_requests_are_applied_in_the_declared_order(tmp_path):
    cfg = Config.from_dict(tiny_config(tmp_path))
    from ganforge.data import load_dataset

    t = Trainer(cfg, load_dataset(cfg.data))
    # given out of order: the stop comes last, the record first
    t.apply([Stop("enough"), Warn("step 0: w"), ExcludeTime(1.5), Publish("log", {"step": 0, "x": 1.0})])
    assert t.last_record == {"step": 0, "x": 1.0}
    assert t.excluded == 1.5 and t.warnings == ["step 0: w"] and t.stop_reason == "enough"
    assert REQUEST_ORDER.index(Publish) < REQUEST_ORDER.index(Stop)


def test_user_callback_sees_published_records_and_stops_the_run(tmp_path):
    seen = []

    class StopAtTen(Callback):
        order = 5  # asked to run before the metrics logger: the loop sorts by order

        def on_step(self, t, stats):
            seen.append((t.step, dict(t.last_record).get("step")))
            if t.step == 10:
                return [Stop("user stop at 10")]
            return None

    res = ganforge.train(tiny_config(tmp_path), extra_callbacks=[StopAtTen()], log=lambda m: None)
    assert res.step == 10 and res.reason == "user stop at 10"
    # order 5 runs before MetricsLogger (10): at step 5 it still sees the record of no step
    assert seen[4] == (5, None) and seen[5] == (6, 5)


def test_callback_order_not_list_order_decides(tmp_path):
    calls = []

    class A(Callback):
        order = 70

        def on_start(self, t):
            calls.append("A")

    class B(Callback):
        order = 65

        def on_start(self, t):
            calls.append("B")

    ganforge.train(tiny_config(tmp_path, train={"iters": 1}), extra_callbacks=[A(), B()], log=lambda m: None)
    assert calls == ["B", "A"]


def test_callbacks_keep_their_own_state_across_a_resume(tmp_path):
    """A callback with a state_key is checkpointed and handed its state back on resume."""

    class Counter(Callback):
        state_key = "counter"

        def __init__(self):
            self.n = 0

        def state_dict(self):
            return {"n": self.n}

        def load_state_dict(self, state):
            self.n = state["n"]

        def on_step(self, t, stats):
            self.n += 1

    first = Counter()
    res = ganforge.train(tiny_config(tmp_path, train={"iters": 10}), extra_callbacks=[first], log=lambda m: None)
    from ganforge.train.checkpoint import load_latest

    state, _ = load_latest(res.run_dir / "checkpoints")
    assert state["callbacks"]["counter"] == {"n": 10}
    assert set(state["callbacks"]) == {"counter", "health"} and "health" not in state  # the monitor is the callback's
    again = Counter()
    ganforge.train(resume=res.run_dir, overrides=["train.iters=15"], extra_callbacks=[again], log=lambda m: None)
    assert again.n == 15  # 10 from the checkpoint, 5 of its own


def test_run_status_is_what_the_stop_request_said(tmp_path):
    from ganforge.train.loop import RunStatus

    class Prune(Callback):
        def on_step(self, t, stats):
            return [Stop("pruned by hand", RunStatus.PRUNED)] if t.step == 3 else None

    res = ganforge.train(tiny_config(tmp_path), extra_callbacks=[Prune()], log=lambda m: None)
    assert res.status is RunStatus.PRUNED and res.status == "pruned" and f"{res.status}" == "pruned"
    assert res.step == 3 and ganforge.api.RunDir(res.run_dir).read_status()["status"] == "pruned"
    # a Fail request makes the run fail, whatever its reason's words
    class Break(Callback):
        def on_step(self, t, stats):
            return [Fail("weights are odd", fatal=True), Stop("enough")] if t.step == 2 else None

    res = ganforge.train(tiny_config(tmp_path / "b", train={"max_rollbacks": 0}), extra_callbacks=[Break()],
                         log=lambda m: None)
    assert res.status is RunStatus.FAILED


def test_a_measure_request_reaches_the_callbacks_after_it_and_the_log(tmp_path):
    class Gauge(Callback):
        order = 5  # before the metrics logger

        def on_step(self, t, stats):
            return [Measure("gauge", float(t.step))]

    seen = []

    class Reader(Callback):
        def on_step(self, t, stats):
            seen.append(float(stats["gauge"]))

    res = ganforge.train(tiny_config(tmp_path, train={"iters": 5, "log_every": 5}), extra_callbacks=[Gauge(), Reader()],
                         log=lambda m: None)
    assert seen == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert res.metrics["gauge"] == 3.0  # the log line's mean over its 5 steps


# ---------------------------------------------------------------- registries, help, README
def test_every_choice_has_a_line_of_help():
    for key, reg in choice_keys().items():
        assert len(reg) >= 2, key
        for name in reg.names():
            assert reg.help(name).strip(), f"{key}: {name} has no help"


def test_readme_table_of_choices_is_in_sync():
    text = (ROOT / "README.md").read_text()
    assert BEGIN in text and END in text
    assert readme_with_choices(text) == text, "regenerate: python -m ganforge.choices README.md"
    for key in choice_keys():
        assert f"`{key}`" in choices_markdown()


def _typo(name: str) -> str:
    return name[:-1] + ("x" if name[-1] != "x" else "y") if len(name) > 3 else name + "x"


@pytest.mark.parametrize("key", sorted(choice_keys()))
def test_every_name_valued_key_answers_a_typo_with_did_you_mean(key):
    """Generated from the same list as the README table: a new key cannot be missed."""
    reg = choice_keys()[key]
    name = max(reg.names(), key=len)
    cfg = Config()
    if key == "data.toy":
        cfg.set("data.name", "toy")
    typo = _typo(name)
    value = [typo] if key in ("augment.ops", "eval.metrics") else typo
    with pytest.raises(ConfigError, match="did you mean '"):
        cfg.set(key, value)
        finish(cfg)


def test_choices_command_lists_a_key(capsys):
    assert main(["choices", "loss.name"]) == 0
    out = capsys.readouterr().out
    assert "rpgan" in out and "relativistic pairing" in out
    assert main(["choices", "los.name"]) == 2
    assert "did you mean 'loss.name'" in capsys.readouterr().err


def test_train_help_lists_every_registered_loss(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for name in choice_keys()["loss.name"].names():
        assert name in out


# ---------------------------------------------------------------- your own features and metrics
MODULE = textwrap.dedent('''
    import torch

    def features():
        # mean and std of each image: a 2-D feature anyone can check by hand
        return lambda x: torch.stack([x.flatten(1).mean(1), x.flatten(1).std(1)], 1)

    def brightness(m):
        return {"mean_gap": float(abs(m.fake[:, 0].mean() - m.real[:, 0].mean()))}
''')


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "myfeats.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "myfeats"
    sys.modules.pop("myfeats", None)


def test_user_extractor_and_metric_from_a_module(user_module):
    real = torch.zeros(40, 3, 8, 8)
    real[:20] = 0.5
    fake = torch.zeros(40, 3, 8, 8) - 0.5
    m = evaluate_samples(fake, real, extractor=f"{user_module}:features", use_cache=False,
                         metrics=["fid", f"{user_module}:brightness"])
    assert m["extractor"] == "myfeats:features"
    # features: (mean, std); real means are 0.25 on average, fake -0.5
    assert m["mean_gap"] == pytest.approx(0.75)
    assert m["fid"] > 0 and "kid" not in m and "precision" not in m


def test_user_extractor_from_a_torchscript_file(tmp_path):
    class Pool(torch.nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    exported = tmp_path / "pool.pt2"
    torch.export.save(torch.export.export(Pool(), (torch.ones(2, 3, 4, 4),),
                                          dynamic_shapes=({0: torch.export.Dim("n")},)), str(exported))
    scripted = tmp_path / "pool.pt"
    with pytest.warns(DeprecationWarning):
        torch.jit.script(Pool()).save(str(scripted))
    for path in (exported, scripted):
        ext = build_extractor(str(path))
        f, _ = ext.run(torch.ones(6, 3, 4, 4))
        assert f.shape == (6, 3) and np.allclose(f, 1.0)
        assert len(ext.weights_id) == 16  # keyed by the file's hash: an edited file is not a cache hit
    (tmp_path / "junk.pt").write_bytes(b"not torchscript")
    with pytest.raises(ConfigError, match="not a TorchScript file"):
        build_extractor(str(tmp_path / "junk.pt"))


def test_bad_user_extractors_are_one_line_errors(user_module):
    with pytest.raises(ConfigError, match="cannot import"):
        build_extractor("no_such_module_xyz:f")
    with pytest.raises(ConfigError, match="has no function"):
        build_extractor(f"{user_module}:nope")
    with pytest.raises(ConfigError, match="did you mean 'mnist-lenet'"):
        build_extractor("mnist-lenat")
    with pytest.raises(ConfigError, match="with no arguments failed"):
        build_extractor(f"{user_module}:brightness")  # wants an argument: not a factory


def test_metric_registry_defaults_keep_every_metric():
    assert METRICS.in_order() == ["fid", "kid", "prdc", "classes"]
