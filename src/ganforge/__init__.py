"""ganforge: GAN training that is stable, measurable and tunable.

Public API: :func:`train`, :func:`sample`, :class:`Config`, :func:`load_config`.
"""
from .api import TrainResult, load_run, sample, train
from .config import Config, load_config
from .errors import ConfigError, DataError, GanforgeError, RunError

__version__ = "0.1.0"
__all__ = ["train", "sample", "load_run", "TrainResult", "Config", "load_config",
           "GanforgeError", "ConfigError", "DataError", "RunError", "__version__"]
