#!/usr/bin/env bash
# Regenerate every figure and table: sets up .venv, then runs all notebooks (default profile cpu).
#   bash scripts/reproduce.sh                    # every notebook, cpu profile, outputs in figures/
#   bash scripts/reproduce.sh --only 01_vae_compression --profile smoke
# Data: $REPRO_DATA_DIR, else ../shared/data when it exists, else data/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
if [ -z "${REPRO_DATA_DIR:-}" ] && [ -d ../shared/data ]; then export REPRO_DATA_DIR="$(cd ../shared/data && pwd)"; fi
exec .venv/bin/python -m repro.bundle.runner "$@"
