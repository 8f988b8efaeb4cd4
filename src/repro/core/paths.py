"""Where the bundle reads and writes: repository root, figures, caches and build outputs.

Each location can be moved with an environment variable so that tests and sweeps never touch the committed
``figures/``: ``REPRO_OUTPUT_DIR`` (results and figures), ``REPRO_CACHE_DIR`` (trained checkpoints) and
``REPRO_DATA_DIR`` (datasets, see :mod:`repro.data`).

One rule for every output location: a relative path, whether it comes from one of these variables or from a
notebook's ``output_dir`` parameter (``-p output_dir build/mine``), is taken relative to the repository root
(:func:`resolve_path`), so it means the same thing in a notebook kernel (which runs in ``notebooks/``) as in the
shell that started it, whatever that shell's working directory.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The repository root: the folder holding ``pyproject.toml`` above this package (or the CWD if installed)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "src" / "repro").is_dir():
            return parent
    return Path.cwd()


def resolve_path(value: str | os.PathLike) -> Path:
    """``value`` as an absolute path: ``~`` expanded, a relative path taken relative to the repository root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else repo_root() / path


def env_path(name: str) -> Path | None:
    """The path in environment variable ``name`` (relative paths resolved against the repository root)."""
    value = os.environ.get(name)
    if not value:
        return None
    return resolve_path(value)


def output_root(profile: str, override: str | os.PathLike | None = None) -> Path:
    """Folder for results and figures of a run.

    ``override`` (a notebook parameter) wins, then ``REPRO_OUTPUT_DIR`` (both relative to the repository root
    when relative); otherwise the committed ``figures/`` for the ``cpu`` profile and ``build/figures-<profile>/``
    for the others, so a smoke or paper run never overwrites the committed artifacts by accident (the runner
    also sends every non-canonical ``cpu`` run to ``build/``, see :mod:`repro.bundle.runner`).
    """
    if override:
        return resolve_path(override)
    env = env_path("REPRO_OUTPUT_DIR")
    if env:
        return env
    if profile == "cpu":
        return repo_root() / "figures"
    return repo_root() / "build" / f"figures-{profile}"


def cache_root() -> Path:
    """Folder of the checkpoint cache (``REPRO_CACHE_DIR`` or ``build/cache``)."""
    return env_path("REPRO_CACHE_DIR") or repo_root() / "build" / "cache"
