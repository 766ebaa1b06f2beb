"""The one way from what a user says to a validated :class:`Config`, for every route: the
CLI, the Python API (a dict or a Config), resuming, tune spaces and the benchmarks.

The layering rule (later wins)::

    the data's recipe < preset < config file < config (dict) < overrides (key=value)

* The recipe (``DATA_RECIPES``: the measured default way to train that kind of data) lies
  under the user's layers only when no preset is named, and only while the user keeps its
  method: naming a loss, a penalty or a penalty schedule other than the recipe's drops the
  whole recipe (its optimizer, n_critic and EMA belong to its method), and the command
  trains that method from the dataclass defaults (WGAN-GP's, for the Wasserstein loss)
  plus what the user set. :class:`Resolved` says which recipe, if any, lies under a config
  and why; ``ganforge train --dry-run`` prints it.
* A :class:`Config` object is complete: it is taken as it is (no recipe), overrides on top.
* Resuming starts from the run's stored config; only overrides apply, and the structural
  sections (``STRUCTURAL``) may not change.
* Validation runs once, after every layer (so an override can fix a cross-key rule that
  an earlier layer broke), then the name checks (:func:`check_names`). This module is the
  build layer that knows the component registries; ``config.py`` imports none of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from .config import Config, DataConfig, _parse_scalar, deep_merge, load_preset, load_yaml
from .errors import ConfigError, RunError
from .registry import check_choice, suggest

#: the recipe a kind of data trains with when no preset is named, each chosen by
#: measurement (docs/results/quality.md); data not listed starts from the dataclass
#: defaults (WGAN-GP, the classic setting)
DATA_RECIPES: dict[str, str] = {"toy": "r3gan-toy", "points": "r3gan-toy", "mnist": "r3gan-mlp-b256-g1",
                                "stackedmnist": "r3gan-mlp-stacked-lazy-reuse"}
#: image folders take a recipe by the side their images are resized to (data.size, or the
#: loader's default: data.images.folder_side) and their channels (data.channels, or what the files hold): (largest
#: side, channels, recipe), smallest first, each measured on the quality suite's folder tasks
#: (docs/results/quality-steps5000.md): up to 32 px grey on folder32 (MNIST; r3gan-mlp-b256-g1,
#: MNIST's own recipe, FID 5.05 against r3gan-mlp-b256's 7.65 there, lower on every seed), colour on
#: folder32c (StackedMNIST), where grey's constant Adam 5e-4 lost its critic and the 1,000-step
#: warm-up to it beat Adam 2e-4 (r3gan-mlp-stacked) on every seed (2026-12-04); up to 64 px (the
#: loader's default side) on folder64 and folder64c, where a constant 5e-4 lost the critic
#: even on grey digits and the 1,000-step warm-up kept it. Larger images start from the
#: dataclass defaults until a recipe has been measured at their size.
FOLDER_RECIPES: tuple[tuple[int, int, str], ...] = (
    (32, 1, "r3gan-mlp-b256-g1"), (32, 3, "r3gan-mlp-stacked-warm"),
    (64, 1, "r3gan-mlp-stacked-warm"), (64, 3, "r3gan-mlp-stacked-warm"))
#: the keys that name a method: a user value for one of them that differs from the
#: recipe's drops the recipe
METHOD_KEYS = ("loss.name", "penalty.name", "penalty.schedule")
#: config sections that must not change when a run is resumed
STRUCTURAL = ("data", "model", "loss")


@dataclass(frozen=True)
class Resolved:
    """A validated config and where it came from."""

    config: Config
    recipe: Optional[str] = None  #: the data recipe under the config (None: none)
    note: str = ""  #: one line: which recipe lies under the config, or why none does


def check_names(cfg: Config) -> None:
    """ConfigError (with "did you mean") for a component name that no registry knows."""
    from .augment import expand_ops
    from .data import DATASETS
    from .data.toy import TOYS
    from .metrics.evaluate import METRICS
    from .metrics.features import EXTRACTORS
    from .models import check_model_config
    from .objectives import LOSSES, PENALTIES, SCHEDULES
    from .optim import LR_SCHEDULES, OPTIMIZERS

    DATASETS.get(cfg.data.name)
    check_choice("data.toy", cfg.data.toy, TOYS.names())
    check_model_config(cfg.model)
    LOSSES.get(cfg.loss.name)
    for name in cfg.penalty.name.split("+"):
        PENALTIES.get(name.strip())
    SCHEDULES.get(cfg.penalty.schedule)
    expand_ops(cfg.augment.ops)
    for name in cfg.eval.metrics:
        if ":" not in name:
            check_choice("eval.metrics", name, METRICS.names())
    ext = cfg.eval.extractor
    if ext != "auto" and ext not in EXTRACTORS and ":" not in ext and not Path(ext).expanduser().is_file():
        raise ConfigError(f"eval.extractor: unknown value {ext!r}{suggest(ext, ['auto', *EXTRACTORS.names()])}; choose "
                          f"one of: auto, {', '.join(EXTRACTORS.names())}, a TorchScript file, or module:function")
    for net in ("g", "d"):
        OPTIMIZERS.get(getattr(cfg.optim, net).name)
        check_choice(f"optim.{net}.schedule", getattr(cfg.optim, net).schedule, LR_SCHEDULES.names())


def finish(cfg: Config) -> Config:
    """Validate ``cfg`` in full (ranges, cross-key rules, then names); returns it."""
    cfg.validate()
    check_names(cfg)
    return cfg


def resolve(preset: Optional[str] = None, file: Union[str, Path, None] = None,
            config: Union[Config, dict[str, Any], None] = None, overrides: Optional[list[str]] = None, *,
            resume: Union[str, Path, None] = None, recipes: bool = True, where: Optional[str] = None) -> Resolved:
    """Resolve the user's inputs by the module's layering rule into a validated config."""
    overrides = list(overrides or [])
    if resume is not None:
        if preset or file is not None or config is not None:
            raise ConfigError("a resumed run keeps its own config: give only overrides")
        return _resolve_resume(Path(resume), overrides)
    if isinstance(config, Config):
        cfg = config.copy()
        cfg.apply_overrides(overrides)
        return Resolved(finish(cfg), None, "no recipe: a Config object is complete")
    if config is not None and not isinstance(config, dict):
        raise ConfigError(f"config must be a Config or a dict, got {type(config).__name__}")
    user: dict[str, Any] = load_preset(preset) if preset else {}
    if file is not None:
        user = deep_merge(user, load_yaml(file))
    if config:
        user = deep_merge(user, config)
    where = where or (str(file) if file is not None else (f"preset {preset}" if preset else "config"))

    def build(base: dict[str, Any]) -> Config:
        cfg = Config.from_dict(deep_merge(base, user), where=where, validate=False)
        cfg.apply_overrides(overrides)
        return cfg

    plain = build({})
    recipe, kind = recipe_for(plain.data) if recipes and not preset else (None, "")
    if recipe is None:
        why = f"no recipe: preset {preset} is complete" if preset else (
            f"no recipe for {kind} (dataclass defaults{_beyond_folder_recipes(plain.data)})" if recipes
            else "no recipe (recipes off)")
        return Resolved(finish(plain), None, why)
    base = load_preset(recipe)
    base.pop("data", None)  # a recipe says how to train, never which data
    theirs = Config.from_dict(base, where=f"preset {recipe}", validate=False)
    clash = [f"{k}={v}" for k, v in _named(user, overrides).items() if v != theirs.get(k)]
    if clash:
        method = f"{theirs.loss.name} + {theirs.penalty.name} ({theirs.penalty.schedule})"
        return Resolved(finish(plain), None, f"no recipe: {recipe}'s method is {method}, you chose "
                        f"{', '.join(clash)}; it trains from the dataclass defaults plus your settings")
    return Resolved(finish(build(base)), recipe, f"recipe: {recipe} (the default for {kind}; your settings on top)")


def recipe_for(data: DataConfig) -> tuple[Optional[str], str]:
    """The recipe a data config trains with when no preset is named (None: none), and the
    kind of data it was chosen for, in words (``data.name=mnist``; an image folder's
    says its size and colour, since its recipe depends on them: ``data.name=imagefolder at
    32 px, grey``)."""
    if data.name != "imagefolder":
        return DATA_RECIPES.get(data.name), f"data.name={data.name}"
    from .data.images import folder_channels, folder_side

    side = folder_side(data)
    channels = data.channels or folder_channels(data.dir)
    # no image read (no folder yet, say): taken as colour, the commoner and the more
    # cautious recipe; loading such a folder fails in its own words anyway
    colour = {1: "grey", 3: "colour"}.get(channels, "colour (assumed: no image read)")
    kind = f"data.name=imagefolder at {side} px, {colour}"
    return next((name for most, c, name in FOLDER_RECIPES if side <= most and c == (channels or 3)), None), kind


def _beyond_folder_recipes(data: DataConfig) -> str:
    """For an image folder larger than every measured folder recipe: what that means, in the
    words a note ends with (else nothing)."""
    from .data.images import folder_side

    largest = max(most for most, _, _ in FOLDER_RECIPES)
    if data.name != "imagefolder" or folder_side(data) <= largest:
        return ""
    return (f": a WGAN-GP MLP; folder recipes are measured up to {largest} px, and `ganforge presets` "
            "lists the convolutional ones")


def resolve_config(preset: Optional[str] = None, file: Union[str, Path, None] = None,
                   overrides: Optional[list[str]] = None, data_recipes: bool = True,
                   config: Union[Config, dict[str, Any], None] = None, where: Optional[str] = None) -> Config:
    """:func:`resolve`'s config alone (the name the API has always exported)."""
    return resolve(preset, file, config, overrides, recipes=data_recipes, where=where).config


def load_config(path: Union[str, Path]) -> Config:
    """A YAML config file resolved as ``ganforge train --config PATH`` resolves it."""
    return resolve(file=path).config


def _named(user: dict[str, Any], overrides: list[str]) -> dict[str, str]:
    """The method keys the user set (in a layer or an override; the last one wins)."""
    out: dict[str, str] = {}
    for key in METHOD_KEYS:
        sec, name = key.split(".")
        if isinstance(user.get(sec), dict) and name in user[sec]:
            out[key] = _norm(user[sec][name])
    for item in overrides:
        k, _, v = item.partition("=")
        if k.strip() in METHOD_KEYS:
            out[k.strip()] = _norm(_parse_scalar(v.strip()))
    return out


def _norm(value: Any) -> str:
    return "+".join(p.strip() for p in str(value).split("+"))


def _resolve_resume(path: Path, overrides: list[str]) -> Resolved:
    from .train.rundir import RunDir

    run = RunDir(path, writable=False).require_run()
    try:
        original = finish(Config.from_dict(run.read_config(), where=str(run.config_file), validate=False))
    except ConfigError as e:
        raise RunError(f"cannot resume: {e}") from None
    cfg = original.copy()
    cfg.apply_overrides(overrides)
    finish(cfg)
    for sec in STRUCTURAL:
        if getattr(cfg, sec) != getattr(original, sec):
            raise ConfigError(f"cannot change the {sec} section when resuming; start a new run instead")
    cfg.out = str(run.path)
    return Resolved(cfg, None, f"resumed: the config stored in {run.config_file}")
