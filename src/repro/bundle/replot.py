"""Redraw the committed figures from the committed tables: ``repro replot [--notebook NB] [--root DIR]``.

Every figure of the manifest that a registered plot function draws (:mod:`repro.plots`) is drawn again from the
tables and arrays beside it, by the same function the notebook called, and saved over the old PNG and PDF with
the same provenance (profile, seeds, commit and date of the run that wrote the data); the manifest records the
function (``drawn_by``), its input files (``drawn_from``) and the code that drew it (``drawn_commit``). No
checkpoint, dataset or model is touched, so restyling a figure takes seconds.

A figure no function is registered for (drawn in its notebook from results held only in memory), or whose
function reads a file the committed run predates, is listed by name; ``--strict`` makes either an error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from repro.bundle.results import Run, read_manifest
from repro.core.checks import ConfigError
from repro.core.paths import repo_root
from repro.plots import (
    catalog,  # noqa: F401  (registers every part's figures)
    registry,
)


def committed_figures(manifest: dict) -> dict[tuple[str, str], dict]:
    """(notebook, figure name) -> the PNG's manifest entry, for every figure of the manifest."""
    out = {}
    for path, meta in manifest.items():
        if meta.get("kind") == "figure" and path.endswith(".png"):
            notebook, _, file = path.partition("/")
            out[(notebook, file[: -len(".png")])] = meta
    return out


def replot(root: Path, notebooks: list[str] | None = None, *, progress=print) -> dict:
    """Redraw the registered figures under ``root``. Returns the figures ``drawn``, those ``not_registered`` (drawn
    only in their notebooks) and those ``missing_inputs`` (registered, but the files they are drawn from were
    written by a newer notebook than the committed run: they come with its next run)."""
    import matplotlib

    matplotlib.use("Agg")
    known = sorted({s.notebook for s in registry.FIGURES})
    for nb in notebooks or []:
        if nb not in known:
            raise ConfigError(f"notebook {nb!r} has no registered figures; valid: {', '.join(known)}")
    figures = committed_figures(read_manifest(root)["artifacts"])
    drawn, missing, stale = [], [], []
    for (notebook, name), meta in sorted(figures.items()):
        if notebooks and notebook not in notebooks:
            continue
        found = registry.find(notebook, name)
        if found is None:
            missing.append(f"{notebook}/{name}")
            continue
        spec, fields = found
        absent = [rel for rel in spec.inputs(**fields).values() if not (Path(root) / rel).exists()]
        if absent:
            stale.append(f"{notebook}/{name} (needs {', '.join(absent)})")
            continue
        run = Run(notebook, meta["profile"], meta.get("params", {}), meta.get("seeds", []), output_dir=str(root),
                  commit=meta["commit"], date=meta["date"])
        t0 = time.perf_counter()
        run.draw_spec(spec, fields, close=True)
        drawn.append(f"{notebook}/{name}")
        progress(f"[replot] {notebook}/{name} ({spec.qualname}, {time.perf_counter() - t0:.1f} s)")
    return {"drawn": drawn, "not_registered": missing, "missing_inputs": stale}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="repro replot", description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=None, help="results folder (default: the committed figures/)")
    ap.add_argument("--notebook", action="append", help="only this notebook's figures (repeatable)")
    ap.add_argument("--strict", action="store_true", help="fail when a committed figure has no registered function")
    args = ap.parse_args(argv)
    root = Path(args.root) if args.root else repo_root() / "figures"
    if not (root / "manifest.json").exists():
        print(f"error: {root} has no manifest.json (a results folder written by a notebook run)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        out = replot(root, args.notebook)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"[replot] {len(out['drawn'])} figures redrawn in {time.perf_counter() - t0:.1f} s under {root}")
    if out["not_registered"]:
        print(f"[replot] {len(out['not_registered'])} figures are drawn only in their notebooks (no registered "
              f"function): {', '.join(out['not_registered'])}")
    if out["missing_inputs"]:
        print(f"[replot] {len(out['missing_inputs'])} figures lack inputs that their notebook now writes (rerun it): "
              f"{'; '.join(out['missing_inputs'])}")
    if args.strict and (out["not_registered"] or out["missing_inputs"]):
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.exit(main())
