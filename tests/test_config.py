import pytest

from ganforge.config import Config, load_preset, preset_names
from ganforge.resolve import load_config
from ganforge.errors import ConfigError
from ganforge.resolve import finish


def test_defaults_valid_and_round_trip(tmp_path):
    c = Config()
    finish(c)
    p = tmp_path / "c.yaml"
    p.write_text(c.to_yaml())
    assert load_config(p) == c


def test_set_dotted_keys_parses_types():
    c = Config()
    c.apply_overrides(["optim.g.lr=3e-4", "train.iters=7", "model.g_hidden=[8, 16]", "train.ema_decay=0.99",
                       "data.dir=null", "penalty.ivgp.beta=0.5", "optim.d.nesterov=true"])
    assert c.optim.g.lr == 3e-4 and c.train.iters == 7 and c.model.g_hidden == [8, 16]
    assert c.train.ema_decay == 0.99 and c.data.dir is None and c.penalty.ivgp.beta == 0.5
    assert c.optim.d.nesterov is True
    c.apply_overrides(["penalty.weight=5"])  # int becomes float
    assert isinstance(c.penalty.weight, float)


@pytest.mark.parametrize("item,msg", [
    ("optim.g.lr=-1", "optim.g.lr must be > 0"),
    ("train.batch_size=0", "train.batch_size must be > 0"),
    ("train.iters=abc", "train.iters must be an integer"),
    ("train.n_critic=2.5", "must be an integer"),
    ("optim.d.betas=[0.5]", "two numbers"),
    ("penalty.weight=nan", "finite"),
    ("data.size=20", "data.size must be one of"),
    ("train.device=tpu", "train.device"),
    ("penalty.ivgp.beta=1.0", "beta"),
])
def test_bad_values_one_line_errors(item, msg):
    c = Config()
    with pytest.raises(ConfigError, match=msg) as e:
        c.apply_overrides([item])
        finish(c)
    assert "\n" not in str(e.value)


def test_unknown_key_did_you_mean():
    with pytest.raises(ConfigError, match="did you mean 'train.batch_size'"):
        Config().set("train.batchsize", 3)
    with pytest.raises(ConfigError, match="did you mean 'iters'"):
        Config.from_dict({"train": {"iter": 3}})
    with pytest.raises(ConfigError, match="expects key=value"):
        Config().apply_overrides(["train.iters"])
    with pytest.raises(ConfigError, match="is a section"):
        Config().set("optim.g", 1)


def test_yaml_errors(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)
    p.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(p)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    p.write_text("train: 3\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(p)


def test_presets_load_and_validate():
    names = preset_names()
    assert {"wgan-gp-mnist", "wgan-clip-mnist", "dcgan-mnist", "mlp-gan-mnist", "ivgp-mnist"} <= set(names)
    for n in names:
        Config.from_dict(load_preset(n))
    with pytest.raises(ConfigError, match="did you mean"):
        load_preset("wgan-gp-mnst")
