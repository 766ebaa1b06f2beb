"""Training: the loop, its callbacks, checkpoints and run folders."""
from .loop import Callback, Trainer
from .rundir import RunDir

__all__ = ["Callback", "Trainer", "RunDir"]
