#!/usr/bin/env bash
# Regenerate every figure and table: sets up .venv, then runs all notebooks (default profile cpu), then builds the
# site from the results (build/site/index.html; --no-site skips it, bash scripts/site.sh builds it alone).
#   bash scripts/reproduce.sh                    # every notebook, cpu profile, outputs in figures/, then the site
#   bash scripts/reproduce.sh --only 01_vae_compression --profile smoke --no-site
# Data: $REPRO_DATA_DIR, else ../shared/data when it exists, else data/.
set -euo pipefail
cd "$(dirname "$0")/.."
site=1
args=()
for a in "$@"; do
  case "$a" in
    --no-site) site=0 ;;
    -h|--help) site=0; args+=("$a") ;;
    *) args+=("$a") ;;
  esac
done
bash scripts/setup_env.sh
if [ -z "${REPRO_DATA_DIR:-}" ] && [ -d ../shared/data ]; then export REPRO_DATA_DIR="$(cd ../shared/data && pwd)"; fi
status=0
.venv/bin/python -m repro.bundle.runner ${args[@]+"${args[@]}"} || status=$?
if [ "$status" -ne 0 ] || [ "$site" = 0 ]; then exit "$status"; fi
# the site shows the committed notebooks and figures/ (a smoke or paper run writes build/, so it shows the cpu run)
.venv/bin/python -m repro.bundle.site || { echo "reproduce: the results are written; the site was not built" >&2; exit 1; }
