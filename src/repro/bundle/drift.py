"""Drift checks: do the committed results still match the code? ``python scripts/check_drift.py [CHECK]``.

Each check returns one line per problem (an empty list: no drift), naming the file and what differs:

- :func:`manifest_problems`: ``figures/manifest.json`` and the files under ``figures/`` agree. Every listed artifact
  exists; every file is listed, except the report's own files (:data:`REPORT_FILES`) and the executed notebooks
  of the notebooks with several dataset runs (``<notebook>/executed/<dataset>.ipynb``, one per run of
  :data:`repro.bundle.profiles.RUNS`, which must all exist); every entry belongs to a run of ``RUNS`` (notebook and
  parameters) at the folder's profile.
- :func:`run_problems`: a run's output folder (a ``smoke`` run of the test suite, or a CI job at any profile)
  against the committed ``cpu`` results, by names and columns only (a smoke run's numbers mean nothing): each
  selected run produced every artifact the committed manifest attributes to it, nothing the committed results
  lack, and every table with the committed table's columns. A renamed table, a figure the code no longer draws or
  a renamed column is reported with the file and the missing and extra names. A column that only some rows fill
  (:func:`column_problem`) may be absent from a run whose rows never fill it: a smoke run never stops a model on a
  plateau, so its training histories have no ``stopped`` column.
- :func:`ledger_problems`: the claims ledger, ``REPORT.md`` and the README's results section, regenerated in
  memory from the committed tables (:func:`repro.bundle.report.render`, with the committed ledger's commit), are
  identical to the committed files.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import pandas as pd

from repro.bundle import report
from repro.bundle.claims import BASELINES_CSV
from repro.bundle.report import LEDGER_FILES
from repro.bundle.results import MANIFEST, read_manifest
from repro.bundle.runner import RUNS, all_runs, select_runs
from repro.core.checks import ConfigError
from repro.core.paths import repo_root

REPORT_FILES = (MANIFEST, BASELINES_CSV, *LEDGER_FILES)
IGNORED_SUFFIXES = (".lock", ".tmp")  # a manifest's lock file, an interrupted atomic write (both git-ignored)

def belongs_to(meta: dict, name: str, params: dict) -> bool:
    """Whether a manifest entry was written by the run ``(name, params)``."""
    return meta.get("notebook") == name and all(meta.get("params", {}).get(k) == v for k, v in params.items())


def run_artifacts(manifest: dict, name: str, params: dict) -> set[str]:
    """The artifacts of ``manifest`` (path -> metadata) that the run ``(name, params)`` wrote."""
    return {path for path, meta in manifest.items() if belongs_to(meta, name, params)}


def executed_notebooks() -> set[str]:
    """Paths (under the results folder) of the executed notebooks the runner writes after a canonical cpu run."""
    return {f"{name}/executed/{params['dataset']}.ipynb" for name, runs in RUNS.items() if len(runs) > 1
            for params in runs}


def _files(root: Path) -> set[str]:
    out = set()
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        for n in names:
            if not n.startswith(".") and not n.endswith(IGNORED_SUFFIXES):
                out.add((Path(folder) / n).relative_to(root).as_posix())
    return out


def manifest_problems(root: Path, profile: str = "cpu", executed: bool = True) -> list[str]:
    """Manifest against files under ``root``; ``executed``: the runner's executed notebooks must be there too."""
    root = Path(root)
    if not (root / MANIFEST).exists():
        return [f"{root / MANIFEST}: missing"]
    manifest = read_manifest(root)["artifacts"]
    files = _files(root)
    expected_extra = set(REPORT_FILES) | (executed_notebooks() if executed else set())
    problems = [f"{p}: listed in {MANIFEST} but missing" for p in sorted(set(manifest) - files)]
    problems += [f"{p}: not listed in {MANIFEST} (an orphan: no notebook run writes it)"
                 for p in sorted(files - set(manifest) - expected_extra)]
    if executed:
        problems += [f"{p}: missing (the executed notebook of this dataset run)"
                     for p in sorted(executed_notebooks() - files)]
    for path, meta in manifest.items():
        if meta.get("profile") != profile:
            problems.append(f"{path}: profile {meta.get('profile')!r} in {MANIFEST}, not {profile!r}")
        if not any(belongs_to(meta, n, p) for n, p in all_runs()):
            problems.append(f"{path}: written by {meta.get('notebook')} with {meta.get('params', {}).get('dataset')!r}"
                            f", which is no run of repro.bundle.profiles.RUNS")
    return problems


def csv_columns(path: Path) -> dict[str, bool]:
    """The columns of a CSV table, each with whether it is *conditional*: empty in at least one row."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        sparse = [False] * len(header)
        for row in reader:
            for i in range(len(header)):
                if i >= len(row) or row[i] == "":
                    sparse[i] = True
    return dict(zip(header, sparse))


def column_problem(committed: dict[str, bool], produced: dict[str, bool]) -> str | None:
    """How the columns of a produced table differ from the committed one's (``None``: they agree).

    A column on one side only is drift, unless the difference is one-sided (nothing is both gone and new, which
    is what a rename looks like) and the column is conditional on that side (empty in some rows): such a column
    is filled only for some rows (``stopped`` marks the epoch where the plateau rule stopped a model, and only
    runs with the rule on have it), so a run whose rows never fill it leaves it out. A column the committed table
    fills in every row and the code no longer writes, a new column the code fills in every row, and a renamed
    column are drift.
    """
    gone, new = set(committed) - set(produced), set(produced) - set(committed)
    if gone and new:
        shown_gone, shown_new = gone, new
    else:
        shown_gone = {c for c in gone if not committed[c]}
        shown_new = {c for c in new if not produced[c]}
    parts = []
    if shown_new:
        parts.append(f"the committed file lacks {_names(shown_new)}")
    if shown_gone:
        parts.append(f"the committed file has {_names(shown_gone)}, which the code no longer writes")
    return "columns differ: " + "; ".join(parts) if parts else None


def _names(names) -> str:
    return ", ".join(sorted(names))


def run_problems(committed: Path, produced: Path, runs: list[tuple[str, dict]] | None = None) -> list[str]:
    """Names and columns of the artifacts under ``produced`` against the committed ones under ``committed``.

    ``runs``: the runs that wrote ``produced`` (default: every run of ``RUNS``, and then the two manifests must
    list exactly the same artifacts).
    """
    committed, produced = Path(committed), Path(produced)
    ours = read_manifest(committed)["artifacts"]
    theirs = read_manifest(produced)["artifacts"]
    if not theirs:
        return [f"{produced / MANIFEST}: missing or empty (the run wrote nothing)"]
    problems = []
    for name, params in runs or all_runs():
        label = f"{name} {params.get('dataset', '')}".strip()
        want = run_artifacts(ours, name, params)
        if not want:
            problems.append(f"{committed.name}/{MANIFEST}: no artifact of the run {label}")
        elif not run_artifacts(theirs, name, params):
            problems.append(f"{produced / MANIFEST}: nothing of the {label} run (did it fail?)")
        else:
            problems += [f"{p}: in the committed results but the {label} run no longer writes it"
                         for p in sorted(want - set(theirs))]
    problems += [f"{p}: written by the code but missing from the committed results (new or renamed)"
                 for p in sorted(set(theirs) - set(ours))]
    for path in sorted(set(theirs) & set(ours)):
        if not path.endswith(".csv"):
            continue
        absent = [str(r) for r in (produced, committed) if not (r / path).exists()]
        if absent:
            problems.append(f"{path}: listed in {MANIFEST} but missing under {' and '.join(absent)}")
            continue
        problem = column_problem(csv_columns(committed / path), csv_columns(produced / path))
        if problem:
            problems.append(f"{path}: {problem}")
    return problems


def _first_difference(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            return f"line {i}: committed {x[:100]!r}, regenerated {y[:100]!r}"
    return f"committed has {len(la)} lines, regenerated {len(lb)}"


def ledger_problems(root: Path, readme: Path | None = None) -> list[str]:
    """Regenerate the ledger files and the README's results section from ``root``'s tables; compare."""
    root = Path(root)
    missing = [n for n in (*LEDGER_FILES, BASELINES_CSV) if not (root / n).exists()]
    if missing:
        return [f"{n}: missing under {root}" for n in missing]
    commits = pd.read_csv(root / "claims.csv", keep_default_na=False, dtype=str)["commit"]
    commit = commits.mode().iloc[0] if len(commits) else None
    led, texts = report.render(root, pd.read_csv(root / BASELINES_CSV), commit=commit)
    problems = [f"{name}: differs from the ledger regenerated from the committed tables "
                f"({_first_difference((root / name).read_text(), text)}); rerun python -m repro.bundle.report"
                for name, text in texts.items() if (root / name).read_text() != text]
    if readme is not None:
        text = readme.read_text()
        if text.count(report.BEGIN) != 1 or text.count(report.END) != 1:
            problems.append(f"{readme.name}: needs exactly one {report.BEGIN} and one {report.END} marker")
        else:
            current = text[text.index(report.BEGIN): text.index(report.END) + len(report.END)]
            fresh = report.readme_section(led)
            if current != fresh:
                problems.append(f"{readme.name}: results section differs from the ledger's "
                                f"({_first_difference(current, fresh)}); rerun python -m repro.bundle.report")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/check_drift.py", description=__doc__.split("\n")[0])
    parser.add_argument("check", nargs="?", default="committed", choices=["committed", "manifest", "ledger", "run"],
                        help="committed (default): manifest and ledger of the committed results; run: a run's "
                             "output folder (--output) against them")
    parser.add_argument("--figures", default=None, help="the committed results (default: figures/)")
    parser.add_argument("--readme", default=None, help="the README whose results section is checked "
                                                       "(default: README.md beside the default figures/)")
    parser.add_argument("--output", default=None, help="run: the run's results folder (its manifest.json)")
    parser.add_argument("--notebook", default=None, help="run: the output is this notebook's runs only")
    parser.add_argument("--dataset", default=None, help="run: the output is this dataset's runs only")
    args = parser.parse_args(argv)
    figures = Path(args.figures) if args.figures else repo_root() / "figures"
    readme = Path(args.readme) if args.readme else (None if args.figures else repo_root() / "README.md")
    try:
        problems = []
        if args.check in ("committed", "manifest"):
            problems += manifest_problems(figures)
        if args.check in ("committed", "ledger"):
            problems += ledger_problems(figures, readme)
        if args.check == "run":
            if not args.output:
                raise ConfigError("the run check needs --output DIR (the run's results folder)")
            everything = args.notebook is None and args.dataset is None
            runs = None if everything else select_runs(args.notebook, args.dataset)
            problems += run_problems(figures, Path(args.output), runs)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for line in problems:
        print(f"drift: {line}")
    what = args.check if args.check != "run" else f"run ({args.output} against {figures})"
    print(f"check_drift {what}: " + (f"{len(problems)} problem(s)" if problems else "no drift"))
    return 1 if problems else 0
