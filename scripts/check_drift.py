"""Drift checks: do the committed results in figures/ still match the code? (:mod:`repro.bundle.drift`)

    python scripts/check_drift.py                     # manifest and ledger of figures/ (what the test suite checks)
    python scripts/check_drift.py manifest            # manifest.json against the files under figures/
    python scripts/check_drift.py ledger              # ledger, REPORT.md, README results regenerated == committed
    python scripts/check_drift.py run --output build/figures-smoke                        # a full run's output
    python scripts/check_drift.py run --output DIR --notebook 02_necst --dataset mnist   # one run's output

``run`` compares names and columns only (a smoke run's numbers mean nothing): every artifact the committed run
wrote is written again, nothing new, and every table has the committed table's columns. Exit status 0: no drift;
1: drift, one line per problem naming the file; 2: a bad option.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from repro.bundle.drift import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
