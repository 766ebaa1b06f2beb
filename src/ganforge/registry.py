"""A tiny name -> object registry with helpful errors.

Every pluggable piece (datasets, models, losses, penalties, penalty schedules,
optimizers, LR schedules, feature extractors) lives in one of these, so that adding a
new one is one decorated class or function and a mistyped name gets a suggestion.
"""
from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

from .errors import ConfigError

T = TypeVar("T")


def suggest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ' (did you mean X?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_choice(key: str, value: str, choices: list[str] | tuple[str, ...]) -> None:
    """ConfigError naming the key, the closest choice and all choices, unless ``value`` is one."""
    if value not in choices:
        raise ConfigError(f"{key}: unknown value {value!r}{suggest(value, choices)}; choose one of: {', '.join(choices)}")


class Registry(Generic[T]):
    """Maps names to objects; ``get`` raises a ConfigError naming the valid choices."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = obj
            return obj

        return deco

    def add(self, name: str, obj: T) -> T:
        return self.register(name)(obj)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.kind} {name!r}{suggest(name, self.names())}; "
                f"choose one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
