#!/usr/bin/env bash
# Run the test suite: sets up .venv, then pytest (unit tests, notebook smoke runs and nbval).
# The tests read only the committed sample in data/sample and write only to temporary folders.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python -m pytest -q "$@"
