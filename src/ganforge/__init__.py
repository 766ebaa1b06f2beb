"""ganforge: GAN training that is stable, measurable and tunable.

Public API: :func:`train`, :func:`sample`, :func:`evaluate`, :func:`evaluate_folders`, :class:`Config`, :func:`load_config`,
:func:`resolve` (the one way from preset, file, dict and overrides to a validated config, with
the recipe under it; :func:`resolve_config` returns its config alone).
"""
from .api import LoadedModel, TrainResult, evaluate, evaluate_folders, load_model, load_run, sample, train
from .config import Config
from .errors import ConfigError, DataError, GanforgeError, RunError
from .resolve import Resolved, load_config, resolve, resolve_config

__version__ = "0.1.0"
__all__ = ["train", "sample", "evaluate", "evaluate_folders", "load_run", "load_model", "LoadedModel", "TrainResult", "Config", "load_config", "resolve", "Resolved",
           "resolve_config",
           "GanforgeError", "ConfigError", "DataError", "RunError", "__version__"]
