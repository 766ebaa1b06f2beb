"""The project's own error types.

A :class:`GanforgeError` is a user mistake or an environment problem that the user can
fix (a bad config value, a broken data file, a folder that is not a run). The CLI prints
its message as one line and exits with status 2; it never shows a traceback for these.
Anything else escaping the API is a bug in ganforge.
"""
from __future__ import annotations


class GanforgeError(Exception):
    """Base class for errors caused by input the user controls."""


class ConfigError(GanforgeError):
    """A configuration key, type or value is wrong."""


class DataError(GanforgeError):
    """A dataset file or folder is missing, malformed or unusable."""


class RunError(GanforgeError):
    """A run folder or checkpoint is missing, damaged or incompatible."""
