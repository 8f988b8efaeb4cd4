"""Results, figures and their provenance.

A notebook opens a :class:`Run` with its name, profile, parameters and seeds. Every table it writes
(:meth:`Run.write_table`, tidy CSV) and every figure it saves (:meth:`Run.save_figure`, PNG and PDF, stamped with
profile, seeds and commit) is recorded in ``<output>/manifest.json`` with what it reproduces, the notebook, the
parameters, the profile, the seeds, the commit and the date. The manifest is the list of artifacts a notebook
promises; the smoke test checks that a fresh run produces every one of them.

Every file is written atomically (:mod:`repro.core.fsio`: temporary file, fsync, rename; the temporary file is
removed on failure, and a disk-full or read-only error names the file in one line). The manifest is
read, changed and written back under an exclusive file lock, so runs writing into the same folder at the same
time keep every entry.

The provenance footer of a figure is placed below everything else drawn on it (:func:`add_footer`), so it
never covers an axis label; :func:`overlapping_texts` lists text that collides (used by the layout tests).
"""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from repro.core.checks import ConfigError
from repro.core.fsio import atomic_path, locked, write_text
from repro.core.paths import output_root, repo_root
from repro.plots.registry import FigureSpec, spec_of

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


def read_manifest(root: Path) -> dict:
    path = Path(root) / MANIFEST
    if not path.exists():
        return {"artifacts": {}}
    return json.loads(path.read_text())


def update_manifest(root: Path, entries: dict[str, dict]) -> None:
    """Add or replace ``entries`` (artifact path -> metadata) in ``<root>/manifest.json`` under a file lock."""
    root = Path(root)
    with locked(root / MANIFEST):
        manifest = read_manifest(root)
        manifest.setdefault("artifacts", {}).update(entries)
        manifest["artifacts"] = dict(sorted(manifest["artifacts"].items()))
        write_text(root / MANIFEST, json.dumps(manifest, indent=1) + "\n")


FOOTER_GID = "repro-provenance-footer"


def add_footer(fig, text: str, *, fontsize: float = 5, pad_points: float = 4):
    """Put ``text`` under everything drawn on ``fig`` (axis labels, tick labels, legends), right-aligned.

    The figure is laid out first (``draw_without_rendering``), the footer goes ``pad_points`` below the lowest
    drawn element, and ``savefig(bbox_inches="tight")`` then grows the saved area to include it.
    """
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    bbox = fig.get_tightbbox(renderer)  # inches
    width, height = fig.get_size_inches()
    y = (bbox.y0 - pad_points / 72) / height
    x = bbox.x1 / width
    return fig.text(x, y, text, ha="right", va="top", fontsize=fontsize, color="0.45", gid=FOOTER_GID)


def overlapping_texts(fig) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty texts of ``fig`` whose rendered boxes intersect (empty list: no overlap).

    Texts inside one legend are compared too; a text is skipped when its axes are hidden.
    """
    from matplotlib.text import Text

    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    hidden = set()  # tick labels of ticks outside the view interval exist but are not drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            tol = 1e-9 * max(1.0, abs(hi - lo))
            for ticks, locs in ((axis.get_major_ticks(), axis.get_majorticklocs()),
                                (axis.get_minor_ticks(), axis.get_minorticklocs())):
                for tick, loc in zip(ticks, locs):
                    if not lo - tol <= loc <= hi + tol:
                        hidden.update((id(tick.label1), id(tick.label2)))
    boxes = []
    for t in fig.findobj(Text):
        if not (t.get_visible() and t.get_text().strip()) or (t.axes is not None and not t.axes.get_visible()):
            continue
        if id(t) in hidden:
            continue
        box = t.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            boxes.append((t.get_text(), box))
    return [(ta, tb) for i, (ta, ba) in enumerate(boxes) for tb, bb in boxes[i + 1:] if ba.overlaps(bb)]


@dataclass
class Run:
    """The provenance context of one notebook execution."""

    notebook: str
    profile: str
    params: dict
    seeds: list[int]
    output_dir: str | None = None
    commit: str = field(default_factory=git_commit)
    date: str = field(default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))

    def __post_init__(self):
        self.root = output_root(self.profile, self.output_dir)
        self.folder = self.root / self.notebook
        self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def stamp(self) -> str:
        return (f"{self.notebook} | profile={self.profile} | seeds={self.seeds} | commit {self.commit} | "
                f"{self.date[:10]}")

    def _record(self, relpath: str, kind: str, reproduces: str, description: str, **extra) -> None:
        update_manifest(self.root, {relpath: {
            "kind": kind, "reproduces": reproduces, "description": description, "notebook": self.notebook,
            "profile": self.profile, "seeds": list(self.seeds), "params": _jsonable(self.params),
            "commit": self.commit, "date": self.date, **extra,
        }})

    def write_table(self, df: pd.DataFrame, name: str, *, reproduces: str, description: str = "",
                    kind: str = "table") -> Path:
        """Write ``df`` as ``<notebook>/<name>.csv`` with ``profile`` and ``commit`` columns; record it.

        ``kind='comparison'`` marks a table laid beside the paper's numbers (gathered by the report).
        """
        df = df.copy()
        df["profile"] = self.profile
        df["commit"] = self.commit
        path = self.folder / f"{name}.csv"
        with atomic_path(path) as tmp:
            df.to_csv(tmp, index=False)
        self._record(f"{self.notebook}/{name}.csv", kind, reproduces, description)
        return path

    def save_figure(self, fig, name: str, *, reproduces: str, description: str = "", **extra) -> Path:
        """Save ``fig`` as PNG and PDF with a provenance footer; record both (with ``extra`` in the entries).

        Text that collides on the saved figure (labels, titles, tick labels, the footer) is reported with a
        warning and listed in the manifest entry as ``text_overlaps``, so a layout problem is seen in the run's
        log instead of in the committed PNG.
        """
        add_footer(fig, self.stamp)
        overlaps = overlapping_texts(fig)
        if overlaps:
            extra["text_overlaps"] = [list(pair) for pair in overlaps[:10]]
            warnings.warn(f"{self.notebook}/{name}: {len(overlaps)} overlapping text pair(s), e.g. "
                          f"{overlaps[0][0]!r} and {overlaps[0][1]!r}", stacklevel=2)
        paths = []
        for ext in ("png", "pdf"):
            path = self.folder / f"{name}.{ext}"
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=ext, dpi=150, bbox_inches="tight",
                            metadata=None if ext == "png" else {"Creator": self.stamp})
            self._record(f"{self.notebook}/{name}.{ext}", "figure", reproduces, description, **extra)
            paths.append(path)
        return paths[0]

    def write_array(self, name: str, *, reproduces: str, description: str = "", **arrays) -> Path:
        """Write named numpy arrays as ``<notebook>/<name>.npz`` (compressed); record it. Reconstruction grids
        are stored this way, as 8-bit pixels (:func:`repro.plots.registry.image_bytes`), so that their figure
        can be redrawn without the models."""
        if not arrays:
            raise ValueError(f"write_array({name!r}) needs at least one array")
        path = self.folder / f"{name}.npz"
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **{k: np.asarray(v) for k, v in arrays.items()})
        self._record(f"{self.notebook}/{name}.npz", "array", reproduces, description)
        return path

    def draw(self, draw_or_spec, **fields):
        """Draw a registered figure (:mod:`repro.plots`) from the files this run wrote, save it with
        :meth:`save_figure` and return it; ``repro replot`` draws it the same way from the committed files."""
        spec = spec_of(draw_or_spec)
        if spec.notebook != self.notebook:
            raise ConfigError(f"figure {spec.notebook}/{spec.name} belongs to {spec.notebook}, not to {self.notebook}")
        return self.draw_spec(spec, fields)

    def draw_spec(self, spec: FigureSpec, fields: dict, *, close: bool = False):
        fig = spec.render(self.root, **fields)
        self.save_figure(fig, spec.figure_name(**fields), reproduces=spec.reproduces.format(**fields),
                         description=spec.description.format(**fields), drawn_by=spec.qualname,
                         drawn_from=sorted(spec.inputs(**fields).values()), drawn_commit=git_commit())
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
        return fig

    def write_json(self, data: dict, name: str, *, reproduces: str, description: str = "") -> Path:
        path = self.folder / f"{name}.json"
        write_text(path, json.dumps(_jsonable({**data, "profile": self.profile, "commit": self.commit}),
                                    indent=1) + "\n")
        self._record(f"{self.notebook}/{name}.json", "json", reproduces, description)
        return path


def executed_notebook(notebook: str, dataset: str) -> str:
    """Repository-relative path of the cleaned executed notebook of one dataset run (written by the runner after
    a canonical ``cpu`` run of a notebook with several dataset runs)."""
    return f"figures/{notebook}/executed/{dataset}.ipynb"


def point_to_executed(notebook: str, section: str, datasets: list[str]) -> None:
    """Print where a section that belongs to other dataset runs shows its results."""
    paths = ", ".join(executed_notebook(notebook, d) for d in datasets)
    print(f"{section} belongs to the run(s) for {', '.join(datasets)}; executed: {paths}")
