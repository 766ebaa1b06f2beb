"""Hyperparameter search on Optuna: YAML spaces, pruning on periodic FID, shared storage."""
from .runner import run_trials, tune
from .space import Space, load_space, suggest_config

__all__ = ["tune", "run_trials", "Space", "load_space", "suggest_config"]
