#!/usr/bin/env bash
# Run the test suite: sets up .venv, lints with Ruff (rules in pyproject.toml; a finding fails the script), then
# pytest (unit tests, notebook smoke runs and nbval).
# The tests read only the committed sample in data/sample and write only to temporary folders.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/ruff check src tests scripts notebooks benchmarks
exec .venv/bin/python -m pytest -q "$@"
