"""A notebook setting, declared once: name, type, valid range and choices (issue 24, item 1), and the
:class:`Part` that declares each paper part's settings, profiles, fixed values and dataset runs.

Kinds: ``int``, ``float``, ``bool``, ``str``, ``path``, ``list[int]``, ``list[float]``, ``list[str]``. A number (or
each item of a list) must lie in ``[low, high]``; a string (or each item) must be one of ``choices`` when there
are any; a list may be empty only where declared (``may_be_empty``). Any value may also be ``None`` (the
profile's value) or, for notebooks with several dataset runs, a ``{dataset: value}`` dictionary.

This module imports no torch, so the runner's check of ``-p`` answers within a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real

INF = math.inf
POS = 1e-300  # "> 0": the smallest bound a positive float passes
KINDS = ("int", "float", "bool", "str", "path", "list[int]", "list[float]", "list[str]")


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str
    low: float = -INF
    high: float = INF
    options: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()  # the choices, or a registry query for them
    may_be_empty: bool = False  # a list that may be [] (nothing extra)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def choices(self) -> tuple[str, ...]:
        """The valid names; a registry query (a dataset registry's selection) is asked each time, so an entry
        added to the registry is a valid choice without editing the setting."""
        return tuple(self.options()) if callable(self.options) else self.options

    def describe(self) -> str:
        what = {"int": "an integer", "float": "a number", "list[int]": "a list of integers",
                "list[float]": "a list of numbers", "list[str]": "a list of names", "str": "a name",
                "path": "a path", "bool": "True or False"}[self.kind]
        each = ", each" if self.kind.startswith("list") else ""
        if self.choices:
            return f"{what}{each} one of {', '.join(self.choices)}"
        if self.kind in ("str", "path", "bool", "list[str]") or (self.low, self.high) == (-INF, INF):
            return what
        if self.high == INF:
            return f"{what}{each} {'> 0' if self.low == POS else f'>= {self.low:g}'}"
        return f"{what}{each} in [{self.low:g}, {self.high:g}]"

    def problem(self, value) -> str | None:
        """What is wrong with ``value`` (one line), or ``None`` when it is valid."""
        if value is None:
            return None
        integer = self.kind in ("int", "list[int]")

        def item_ok(x) -> bool:
            if self.kind in ("str", "list[str]"):
                return isinstance(x, str) and bool(x) and (not self.choices or x in self.choices)
            if isinstance(x, bool) or not isinstance(x, Real) or (integer and not isinstance(x, int)):
                return False
            return math.isfinite(x) and self.low <= x <= self.high

        if self.kind == "bool":
            ok = isinstance(value, bool)
        elif self.kind == "path":
            ok = isinstance(value, str) and bool(value)
        elif self.kind.startswith("list"):
            ok = (isinstance(value, (list, tuple)) and (bool(value) or self.may_be_empty)
                  and all(item_ok(x) for x in value))
        else:
            ok = item_ok(value)
        if ok:
            return None
        example = {"list[int]": ", e.g. [0, 1, 2]", "list[float]": ", e.g. [0.1, 0.2]"}.get(self.kind, "")
        return f"-p {self.name} {value!r}: {self.name} must be {self.describe()}{example}"


def S(name: str, kind: str, low: float = -INF, high: float = INF,
      choices: tuple[str, ...] | Callable[[], tuple[str, ...]] = (),
      may_be_empty: bool = False) -> Setting:
    return Setting(name, kind, low, high, choices if callable(choices) else tuple(choices), may_be_empty)


PROFILE_NAMES = ("smoke", "cpu", "paper")
# the settings every notebook has
PROFILE = S("profile", "str", choices=PROFILE_NAMES)
DEVICE = S("device", "str", choices=("auto", "cpu", "cuda"))
OUTPUT_DIR, DATA_DIR = S("output_dir", "path"), S("data_dir", "path")
THREADS = S("threads", "int", 1, INF)
PRECISION = S("precision", "str", choices=("auto", "fp32", "bf16"))
SEEDS = S("seeds", "list[int]", 0, INF)
PLATEAU = S("stop_plateau", "float", 1e-6, 0.5)
BSC_EPS = (0.0, 0.5)  # a BSC level beyond 1/2 is the same channel with the bits inverted
COVERAGES = (POS, INF)


def count(name: str) -> Setting:
    """A positive integer (a number of epochs, images, seeds, ...)."""
    return S(name, "int", 1, INF)


@dataclass(frozen=True)
class Part:
    """One paper part: its notebook, the paper its claims come from (a key of :data:`repro.parts.PAPERS`), its
    settings (one :class:`Setting` per name of the notebook's parameters cell), its profiles (``smoke``, ``cpu``,
    ``paper``: values for the ``None`` s of the parameters cell), the values no profile changes (``fixed``), its
    dataset runs (the first is the canonical run written back to the paired notebook), its jobs (``module:function``
    returning a run's training jobs) and the module that registers its figures."""

    notebook: str
    paper: str
    title: str
    runs: tuple[str, ...]
    settings: tuple[Setting, ...]
    profiles: dict[str, dict]
    fixed: dict
    jobs: str
    plots: str

    def __post_init__(self):
        names = [s.name for s in self.settings]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"{self.notebook}: setting(s) {twice} declared twice")
        if set(self.profiles) != set(PROFILE_NAMES):
            raise ValueError(f"{self.notebook}: profiles {sorted(self.profiles)}; expected {list(PROFILE_NAMES)}")
        dataset = {s.name: s for s in self.settings}.get("dataset")
        if dataset is None or not set(self.runs) <= set(dataset.choices):
            raise ValueError(f"{self.notebook}: runs {self.runs} are not among its dataset choices")
