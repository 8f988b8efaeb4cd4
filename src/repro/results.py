"""Results, figures and their provenance.

A notebook opens a :class:`Run` with its name, profile, parameters and seeds. Every table it writes
(:meth:`Run.write_table`, tidy CSV) and every figure it saves (:meth:`Run.save_figure`, PNG and PDF, stamped with
profile, seeds and commit) is recorded in ``<output>/manifest.json`` with what it reproduces, the notebook, the
parameters, the profile, the seeds, the commit and the date. The manifest is the list of artifacts a notebook
promises; the smoke test checks that a fresh run produces every one of them.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .paths import output_root, repo_root

MANIFEST = "manifest.json"


def git_commit() -> str:
    """Short commit of the repository, with ``-dirty`` when tracked code (``src/``, ``notebooks/*.py``) differs
    from it; ``unknown`` outside git."""
    try:
        root = repo_root()
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        # code only: the paired .ipynb files hold outputs that the runner itself rewrites
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src",
                                "notebooks/*.py"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    try:
        return value.item()
    except AttributeError:
        return str(value)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_manifest(root: Path) -> dict:
    path = Path(root) / MANIFEST
    if not path.exists():
        return {"artifacts": {}}
    return json.loads(path.read_text())


@dataclass
class Run:
    """The provenance context of one notebook execution."""

    notebook: str
    profile: str
    params: dict
    seeds: list[int]
    output_dir: str | None = None
    commit: str = field(default_factory=git_commit)
    date: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))

    def __post_init__(self):
        self.root = output_root(self.profile, self.output_dir)
        self.folder = self.root / self.notebook
        self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def stamp(self) -> str:
        return f"{self.notebook} | profile={self.profile} | seeds={self.seeds} | commit {self.commit} | {self.date[:10]}"

    def _record(self, relpath: str, kind: str, reproduces: str, description: str) -> None:
        manifest = read_manifest(self.root)
        manifest.setdefault("artifacts", {})[relpath] = {
            "kind": kind, "reproduces": reproduces, "description": description, "notebook": self.notebook,
            "profile": self.profile, "seeds": list(self.seeds), "params": _jsonable(self.params),
            "commit": self.commit, "date": self.date,
        }
        manifest["artifacts"] = dict(sorted(manifest["artifacts"].items()))
        _atomic_write_text(self.root / MANIFEST, json.dumps(manifest, indent=1) + "\n")

    def write_table(self, df: pd.DataFrame, name: str, *, reproduces: str, description: str = "",
                    kind: str = "table") -> Path:
        """Write ``df`` as ``<notebook>/<name>.csv`` with ``profile`` and ``commit`` columns; record it.

        ``kind='comparison'`` marks a table laid beside the paper's numbers (gathered by the report).
        """
        df = df.copy()
        df["profile"] = self.profile
        df["commit"] = self.commit
        path = self.folder / f"{name}.csv"
        df.to_csv(path, index=False)
        self._record(f"{self.notebook}/{name}.csv", kind, reproduces, description)
        return path

    def save_figure(self, fig, name: str, *, reproduces: str, description: str = "") -> Path:
        """Save ``fig`` as PNG and PDF with a provenance footer; record both."""
        fig.text(0.995, 0.002, self.stamp, ha="right", va="bottom", fontsize=5, color="0.45")
        paths = []
        for ext in ("png", "pdf"):
            path = self.folder / f"{name}.{ext}"
            fig.savefig(path, dpi=150, bbox_inches="tight", metadata=None if ext == "png" else {"Creator": self.stamp})
            self._record(f"{self.notebook}/{name}.{ext}", "figure", reproduces, description)
            paths.append(path)
        return paths[0]

    def write_json(self, data: dict, name: str, *, reproduces: str, description: str = "") -> Path:
        path = self.folder / f"{name}.json"
        _atomic_write_text(path, json.dumps(_jsonable({**data, "profile": self.profile, "commit": self.commit}),
                                            indent=1) + "\n")
        self._record(f"{self.notebook}/{name}.json", "json", reproduces, description)
        return path
