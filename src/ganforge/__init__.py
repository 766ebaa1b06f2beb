"""ganforge: GAN training that is stable, measurable and tunable.

Public API: :func:`train`, :func:`sample`, :func:`evaluate`, :class:`Config`, :func:`load_config`,
:func:`resolve_config` (the CLI's way from preset, file and overrides to a config).
"""
from .api import TrainResult, evaluate, load_run, sample, train
from .config import Config, load_config, resolve_config
from .errors import ConfigError, DataError, GanforgeError, RunError

__version__ = "0.1.0"
__all__ = ["train", "sample", "evaluate", "load_run", "TrainResult", "Config", "load_config", "resolve_config",
           "GanforgeError", "ConfigError", "DataError", "RunError", "__version__"]
