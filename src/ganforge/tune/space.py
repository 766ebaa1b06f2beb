"""Search spaces in YAML: which config keys to vary, how, and what to optimise.

    base:                       # optional starting config
      preset: wgan-gp-mnist     # a shipped preset, and/or
      config: {train: {iters: 300}, eval: {every: 50}}
    objective: {metric: fid, mode: best, direction: minimize}   # mode: best | final
    sampler: tpe                # tpe | random | grid
    pruner: median              # median | hyperband | none
    params:
      optim.g.lr: {type: float, low: 1.0e-5, high: 1.0e-3, log: true, also: [optim.d.lr]}
      optim.g.name: {type: categorical, choices: [adam, sgd], also: [optim.d.name]}
      train.n_critic: {type: int, low: 1, high: 5}
      penalty.weight: {type: float, low: 1, high: 20, when: {loss.name: wasserstein}}

``also`` sets further keys to the same value; ``when`` samples a key only when the
listed keys (already sampled or in the base config) have the given values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..config import Config, load_yaml
from ..resolve import finish, resolve_config
from ..registry import check_choice
from ..errors import ConfigError

SPACE_DIR = Path(__file__).parent / "spaces"
TYPES = ("float", "int", "categorical")


@dataclass
class Param:
    key: str
    type: str
    low: Optional[float] = None
    high: Optional[float] = None
    log: bool = False
    step: Optional[float] = None
    choices: list[Any] = field(default_factory=list)
    also: list[str] = field(default_factory=list)
    when: dict[str, Any] = field(default_factory=dict)


@dataclass
class Space:
    base: dict[str, Any]
    params: list[Param]
    metric: str = "fid"
    mode: str = "best"
    direction: str = "minimize"
    sampler: str = "tpe"
    pruner: str = "median"

    def grid(self) -> dict[str, list[Any]]:
        """Search space for Optuna's GridSampler (categorical and int params only)."""
        out = {}
        for p in self.params:
            if p.type == "categorical":
                out[p.key] = list(p.choices)
            elif p.type == "int":
                out[p.key] = list(range(int(p.low), int(p.high) + 1, int(p.step or 1)))
            else:
                raise ConfigError(f"grid search needs choices: give {p.key} type categorical (a list of values)")
        return out


def resolve_space_path(name: str | Path) -> Path:
    p = Path(name)
    if p.is_file():
        return p
    shipped = SPACE_DIR / f"{p.stem}.yaml"
    if shipped.is_file():
        return shipped
    raise ConfigError(f"search space {str(name)!r} not found (shipped: "
                      f"{', '.join(sorted(x.name for x in SPACE_DIR.glob('*.yaml')))})")


def load_space(path: str | Path, overrides: Optional[list[str]] = None) -> Space:
    """Load a space; ``overrides`` (``key=value``) change its base config, e.g. the dataset."""
    path = resolve_space_path(path)
    d = load_yaml(path)
    unknown = set(d) - {"base", "objective", "sampler", "pruner", "params", "description"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level keys {sorted(unknown)}")
    base_spec = d.get("base") or {}
    # the same rule as `ganforge train` and ganforge.train: a base on data with a recipe
    # trains that recipe while the base keeps its method
    cfg = resolve_config(preset=base_spec.get("preset"), config=base_spec.get("config"), overrides=overrides,
                         where=str(path))
    obj = d.get("objective") or {}
    params = []
    raw = d.get("params") or {}
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{path}: 'params' must map config keys to their ranges")
    for key, spec in raw.items():
        if not isinstance(spec, dict) or spec.get("type") not in TYPES:
            raise ConfigError(f"{path}: params.{key} needs type: one of {', '.join(TYPES)}")
        cfg.get(key)  # the key must exist
        for k in spec.get("also", []):
            cfg.get(k)
        p = Param(key=key, **{k: v for k, v in spec.items() if k in Param.__dataclass_fields__ and k != "key"})
        if p.type != "categorical" and (p.low is None or p.high is None or p.low > p.high):
            raise ConfigError(f"{path}: params.{key} needs low <= high")
        if p.type == "categorical" and not p.choices:
            raise ConfigError(f"{path}: params.{key} needs choices")
        params.append(p)
    space = Space(base=cfg.to_dict(), params=params, metric=obj.get("metric", "fid"), mode=obj.get("mode", "best"),
                  direction=obj.get("direction", "minimize"), sampler=d.get("sampler", "tpe"),
                  pruner=d.get("pruner", "median"))
    if space.mode not in ("best", "final") or space.direction not in ("minimize", "maximize"):
        raise ConfigError(f"{path}: objective needs mode best|final and direction minimize|maximize")
    try:
        check_choice("sampler", space.sampler, ("tpe", "random", "grid"))
        check_choice("pruner", space.pruner, ("median", "hyperband", "none"))
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    _require_evaluated(space, cfg, path)
    return space


#: objectives that only the evaluations (eval.every, eval.every_seconds) measure
EVALUATED = ("fid", "kid", "precision", "recall", "density", "coverage", "classes_hit", "class_entropy",
             "class_kl_uniform", "classifier_score", "w1")


def _require_evaluated(space: Space, cfg, path: Path) -> None:
    """ConfigError when the objective needs evaluations that no trial would run: every trial
    would train to its end and then fail unscored. Left to the trials when a param moves
    train.iters or the evaluation schedule."""
    moved = {k for p in space.params for k in (p.key, *p.also)}
    if space.metric not in EVALUATED or moved & {"train.iters", "train.epochs", "eval.every", "eval.every_seconds"}:
        return
    e, iters = cfg.eval, cfg.train.iters
    # with train.epochs the step count comes from the data's size, known only when training
    if e.every_seconds or (e.every and (cfg.train.epochs is not None or e.every <= iters)):
        return
    why = "eval.every=0" if not e.every else f"eval.every={e.every} > train.iters={iters}"
    raise ConfigError(f"{path}: the objective {space.metric} is measured by evaluations, but {why}: no trial "
                      f"would be scored; set eval.every to at most train.iters (e.g. --set eval.every={max(1, iters // 4)})")


def suggest_config(space: Space, trial) -> Config:
    """A config for ``trial``: the base with each applicable parameter sampled."""
    cfg = Config.from_dict(space.base, validate=False)  # validated once, below, after the sampled values
    for p in space.params:
        if any(cfg.get(k) != v for k, v in p.when.items()):
            continue
        if p.type == "float":
            v = trial.suggest_float(p.key, float(p.low), float(p.high), log=p.log, step=p.step)
        elif p.type == "int":
            v = trial.suggest_int(p.key, int(p.low), int(p.high), log=p.log, step=int(p.step or 1))
        else:
            v = trial.suggest_categorical(p.key, p.choices)
        for k in [p.key] + list(p.also):
            cfg.set(k, v)
    return finish(cfg)
