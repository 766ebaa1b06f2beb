"""A tiny name -> object registry with helpful errors.

Every pluggable piece (datasets, toy sets, models, activations, initializations,
losses, penalties, penalty schedules, augmentations, optimizers, LR schedules, feature
extractors) lives in one of these, so that adding a new one is one decorated class or
function, a mistyped name gets a suggestion, and its help line reaches ``ganforge
choices`` and the README. Keys that only pick a branch (normalizations, latents,
precision) are ``Registry.of`` plain choices with help. ganforge.choices maps each config
key to its registry.
"""
from __future__ import annotations

import difflib
import inspect
from typing import Callable, Generic, Iterator, Optional, TypeVar

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
    """Maps names to objects, each with a line of help; ``get`` raises a ConfigError naming
    the valid choices. The help is what ``ganforge choices`` and the README's table of
    choices show (an object's docstring's first line when none is given)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._help: dict[str, str] = {}

    @classmethod
    def of(cls, kind: str, choices: dict[str, str]) -> "Registry[str]":
        """A registry of plain choices (the object is the name), for keys whose values
        select a branch rather than a component."""
        reg: Registry[str] = Registry(kind)
        for name, text in choices.items():
            reg.add(name, name, text)
        return reg

    def register(self, name: str, help: Optional[str] = None) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = obj
            # a function's or class's own docstring; an instance's would be its class's
            own = inspect.isfunction(obj) or inspect.isclass(obj)
            doc = (obj.__doc__ or "").strip().splitlines() if own else []
            self._help[name] = help if help is not None else (doc[0].rstrip(".") if doc else "")
            return obj

        return deco

    def add(self, name: str, obj: T, help: Optional[str] = None) -> T:
        return self.register(name, help)(obj)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.kind} {name!r}{suggest(name, self.names())}; "
                f"choose one of: {', '.join(self.names())}"
            ) from None

    def help(self, name: str) -> str:
        """The one line of help of ``name``."""
        return self._help[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def in_order(self) -> list[str]:
        """The names in the order they were registered."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
