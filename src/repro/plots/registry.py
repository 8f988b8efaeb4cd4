"""The figure registry: each figure declared once, with the files it is drawn from.

:func:`figure` registers a drawing function under its notebook and name::

    @figure("02_necst", "figure3_left_{dataset}", tables={"points": "figure3_left_{dataset}"},
            reproduces="NECST Figure 3 (left)", description="NECST vs VAE+LDPC distortion over eps, {dataset}")
    def figure3_left(points: pd.DataFrame, *, dataset: str) -> Figure: ...

The function receives each table as a DataFrame (read from ``<notebook>/<table>.csv``), each array file as a
dict of numpy arrays (``<notebook>/<array>.npz``) and the name's fields as keyword arguments, and returns a
matplotlib figure. It reads nothing else but the package's own reference data (the papers' numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter

import numpy as np
import pandas as pd

from repro.core.checks import ConfigError


@dataclass(frozen=True)
class FigureSpec:
    """One figure: ``name`` and the input names are patterns over the same fields (``{dataset}``)."""

    notebook: str
    name: str
    draw: Callable
    tables: Mapping[str, str] = field(default_factory=dict)
    arrays: Mapping[str, str] = field(default_factory=dict)
    reproduces: str = ""
    description: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for _, f, _, _ in Formatter().parse(self.name) if f)

    @property
    def qualname(self) -> str:
        return f"{self.draw.__module__}:{self.draw.__name__}"

    def match(self, figure_name: str) -> dict[str, str] | None:
        """The fields of ``figure_name`` when this spec draws it (``None`` otherwise)."""
        pattern = ""
        for literal, name, _, _ in Formatter().parse(self.name):
            pattern += re.escape(literal) + (f"(?P<{name}>[A-Za-z0-9_.-]+?)" if name else "")
        m = re.fullmatch(pattern, figure_name)
        return m.groupdict() if m else None

    def _check_fields(self, fields: dict) -> None:
        if set(fields) != set(self.fields):
            raise ConfigError(f"figure {self.notebook}/{self.name} needs the fields {sorted(self.fields)}; "
                              f"got {sorted(fields)}")

    def figure_name(self, **fields) -> str:
        self._check_fields(fields)
        return self.name.format(**fields)

    def inputs(self, **fields) -> dict[str, str]:
        """Argument -> path of its file under the results folder (``<notebook>/<name>.csv`` or ``.npz``)."""
        self._check_fields(fields)
        out = {arg: f"{self.notebook}/{pat.format(**fields)}.csv" for arg, pat in self.tables.items()}
        out.update({arg: f"{self.notebook}/{pat.format(**fields)}.npz" for arg, pat in self.arrays.items()})
        return out

    def render(self, root: Path, **fields):
        """The figure drawn from the files under ``root`` (a results folder such as ``figures/``)."""
        args = {}
        for arg, rel in self.inputs(**fields).items():
            path = Path(root) / rel
            if not path.exists():
                raise FileNotFoundError(f"figure {self.notebook}/{self.figure_name(**fields)} is drawn from {rel}, "
                                        f"which is not under {root}")
            if rel.endswith(".npz"):
                with np.load(path) as npz:
                    args[arg] = {k: npz[k] for k in npz.files}
            else:
                args[arg] = pd.read_csv(path)
        return self.draw(**args, **fields)


def image_bytes(images) -> np.ndarray:
    """Images with values in [0, 1] (numpy or torch, any shape) as uint8 pixels (clipped, rounded): how
    reconstruction grids are stored for their figures (1/4 of float32, exact to 1/510 of the range)."""
    x = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    return np.round(np.clip(x.astype(np.float64), 0.0, 1.0) * 255).astype(np.uint8)


def image_floats(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels back to float32 values in [0, 1]."""
    if pixels.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels (image_bytes), got {pixels.dtype}")
    return pixels.astype(np.float32) / 255.0


def one_row(table: pd.DataFrame) -> pd.Series:
    """The single row of a one-row table (a run's settings, a reference value), or a clear error."""
    if len(table) != 1:
        raise ValueError(f"expected a one-row table, got {len(table)} rows (columns {list(table.columns)})")
    return table.iloc[0]


FIGURES: list[FigureSpec] = []


def figure(notebook: str, name: str, *, tables: Mapping[str, str] | None = None,
           arrays: Mapping[str, str] | None = None, reproduces: str, description: str = ""):
    """Register the decorated function as the drawing of ``<notebook>/<name>`` (see the module docstring)."""

    def register(draw):
        spec = FigureSpec(notebook, name, draw, dict(tables or {}), dict(arrays or {}), reproduces, description)
        for other in FIGURES:
            if other.notebook == notebook and other.name == name:
                raise ValueError(f"figure {notebook}/{name} is registered twice ({other.qualname}, {spec.qualname})")
        unknown = {f for pat in (*spec.tables.values(), *spec.arrays.values(), reproduces, description)
                   for _, f, _, _ in Formatter().parse(pat) if f} - set(spec.fields)
        if unknown:
            raise ValueError(f"figure {notebook}/{name}: its inputs or texts use fields {sorted(unknown)} that its "
                             f"name does not have")
        FIGURES.append(spec)
        draw.spec = spec
        return draw

    return register


def specs_for(notebook: str) -> list[FigureSpec]:
    return [s for s in FIGURES if s.notebook == notebook]


def spec_of(draw_or_spec) -> FigureSpec:
    spec = draw_or_spec if isinstance(draw_or_spec, FigureSpec) else getattr(draw_or_spec, "spec", None)
    if spec is None:
        raise ConfigError(f"{draw_or_spec!r} is not a registered figure; registered: "
                          f"{', '.join(f'{s.notebook}/{s.name}' for s in FIGURES)}")
    return spec


def find(notebook: str, figure_name: str) -> tuple[FigureSpec, dict] | None:
    """The spec that draws ``<notebook>/<figure_name>`` and its fields, or ``None``."""
    for spec in specs_for(notebook):
        fields = spec.match(figure_name)
        if fields is not None:
            return spec, fields
    return None
