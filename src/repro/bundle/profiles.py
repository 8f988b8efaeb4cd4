"""Profiles: named parameter sets of each notebook (``smoke``, ``cpu``, ``paper``).

A notebook's parameters cell names a profile and leaves every other parameter at ``None``; :func:`resolve`
fills the ``None`` s from the profile, so one papermill ``-p`` overrides one value and the rest follow the
profile. The resolved dictionary is what the notebook records as provenance.
"""

from __future__ import annotations

import ast

from repro import parts
from repro.core.checks import ConfigError, check_choice
from repro.parts import PARTS, PROFILE_NAMES

# Derived from the parts' registry (:mod:`repro.parts`), where each notebook declares them.
PROFILES: dict[str, dict[str, dict]] = {p.notebook: p.profiles for p in PARTS}
# Parameters shared by all profiles of a notebook (the paper's settings that no profile changes).
# ``precision`` is the training precision: ``auto`` (every profile's default: bf16 only on hardware with native
# bf16 where the family's parity run and a throughput probe allow it, see repro.experiments.compute), or ``fp32`` /
# ``bf16`` to force one; the resolved precision is part of a checkpoint's key when not fp32.
FIXED: dict[str, dict] = {p.notebook: p.fixed for p in PARTS}
# Parameter combinations per notebook; the first one is the canonical run written back to the paired notebook.
RUNS: dict[str, list[dict]] = {p.notebook: [{"dataset": d} for d in p.runs] for p in PARTS}


def resolve(notebook: str, profile: str, **overrides) -> dict:
    """Parameters of ``notebook`` at ``profile``; non-``None`` ``overrides`` replace single values."""
    check_choice("notebook", notebook, sorted(PROFILES))
    check_choice("profile", profile, PROFILE_NAMES)
    params = {**FIXED.get(notebook, {}), **PROFILES[notebook][profile]}
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise ConfigError(f"unknown parameter(s) {unknown} for {notebook}; valid: {sorted(params)}")
    params.update({k: v for k, v in overrides.items() if v is not None})
    params["profile"] = profile
    return params


def for_dataset(params: dict, dataset: str, default_seeds=(0,)) -> dict:
    """Pick per-dataset values: a parameter given as ``{dataset: value}`` becomes that dataset's value (``None``
    when the dataset is not listed, i.e. the notebook's default; for ``seeds`` the first seed)."""
    from repro.data import DATASETS

    out = {}
    for key, value in params.items():
        if isinstance(value, dict) and value and set(value) <= set(DATASETS):
            value = value.get(dataset, list(default_seeds) if key == "seeds" else None)
        out[key] = value
    return out


# --- checking ``-p NAME VALUE`` overrides before a notebook runs (used by :mod:`repro.bundle.runner`) ---------------
# Each notebook's settings are declared once, with type, range and choices, in its :mod:`repro.parts` module.


def check_override(notebook: str, name: str, value, datasets: list[str] | None = None) -> None:
    """Raise :class:`ConfigError` (one line naming the parameter, the value and what is valid) unless ``value``
    is a valid override of ``name`` in ``notebook`` (:func:`repro.parts.check`). ``None`` always is (it
    means: take the profile's value); ``datasets``: the keys a per-dataset ``{dataset: value}`` may use."""
    parts.check(notebook, name, value, datasets)


def all_runs() -> list[tuple[str, dict]]:
    """Every run of :data:`RUNS` as ``(notebook, parameters)``, in the order the runner executes them."""
    return [(name, params) for name, runs in RUNS.items() for params in runs]


def select_runs(notebook: str | None = None, dataset: str | None = None) -> list[tuple[str, dict]]:
    """The runs of one notebook and/or one dataset (all when both are ``None``); one line naming the valid
    choices (:class:`ConfigError`) when nothing matches."""
    if notebook is not None:
        check_choice("notebook", notebook, sorted(RUNS))
    runs = [(n, p) for n, p in all_runs() if notebook in (None, n) and dataset in (None, p.get("dataset"))]
    if not runs:
        valid = sorted({p["dataset"] for n, p in all_runs() if notebook in (None, n)})
        raise ConfigError(f"no run of {notebook or 'any notebook'} on dataset {dataset!r}; valid: {', '.join(valid)}")
    return runs


def parse_value(text: str):
    """``-p`` values: Python literals (``3``, ``[0, 1]``, ``None``) or plain strings."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
