"""Argument validation that fails loudly with the bad value and the valid choices.

Every public entry point of the package validates its inputs through these helpers, so a typo in a papermill
parameter surfaces as one clear sentence instead of a shape error three cells later.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Real


class ReproError(Exception):
    """Base class of the bundle's own errors."""


class ConfigError(ReproError, ValueError):
    """A parameter has a value outside its valid set or range."""


def check_choice(name: str, value, choices: Iterable) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; valid choices: {', '.join(map(repr, choices))}")


def check_range(name: str, value, low: Real, high: Real, *, integer: bool = False) -> None:
    """Raise :class:`ConfigError` unless ``low <= value <= high`` (and ``value`` is an int when ``integer``)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ConfigError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    if integer and int(value) != value:
        raise ConfigError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    if not (low <= value <= high):
        span = f"{low}..{high}" if integer else f"[{low}, {high}]"
        raise ConfigError(f"{name}={value!r} is outside its valid range {span}")
