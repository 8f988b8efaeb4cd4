"""Clean committed notebooks: drop progress-bar fragments and papermill metadata, replace machine paths.

    python scripts/clean_notebooks.py                     # notebooks/*.ipynb and figures/*/executed/*.ipynb
    python scripts/clean_notebooks.py notebooks/05_dna_storage.ipynb
    python scripts/clean_notebooks.py --check             # exit 1 if any would change (nothing is written)

The same cleaning (:mod:`repro.bundle.nbclean`) runs on every write-back of ``python -m repro.bundle.runner``; this
script applies it to notebooks written before, and is idempotent (a second run changes nothing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from repro.bundle.nbclean import clean_file  # noqa: E402
from repro.core.paths import repo_root  # noqa: E402


def default_targets() -> list[Path]:
    root = repo_root()
    return sorted(root.glob("notebooks/*.ipynb")) + sorted(root.glob("figures/*/executed/*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks to clean (default: every committed one)")
    parser.add_argument("--check", action="store_true", help="only report notebooks that are not clean")
    args = parser.parse_args(argv)
    targets = args.paths or default_targets()
    missing = [str(p) for p in targets if not p.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    dirty = []
    for path in targets:
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                changed = clean_file(path, Path(tmp) / path.name)
        else:
            changed = clean_file(path)
        if changed:
            dirty.append(path)
        print(f"{'not clean' if args.check and changed else 'cleaned' if changed else 'clean'}: {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    raise SystemExit(main())
