#!/usr/bin/env bash
# Run the test suite: sets up .venv, lints with Ruff (rules in pyproject.toml; a finding fails the script), then
# pytest (unit tests; notebook smoke runs, each compared with the committed cpu run by names and columns; nbval; the
# drift checks of scripts/check_drift.py and the CI workflows' linters), then the golden and systems tests once more
# with PyTorch's portable kernels (ATEN_CPU_CAPABILITY=default), so that a float compared bit for bit, which passes
# only on the CPU its golden was recorded on, fails here and cannot creep back in.
# The tests read only the committed sample in data/sample and write only to temporary folders.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/ruff check src tests scripts notebooks benchmarks
.venv/bin/python -m pytest -q "$@"
if [ "$#" -eq 0 ]; then
  echo "test.sh: golden and systems tests again with ATEN_CPU_CAPABILITY=default (portable kernels)"
  ATEN_CPU_CAPABILITY=default .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_golden.py tests/test_systems.py
fi
