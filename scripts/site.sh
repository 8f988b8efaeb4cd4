#!/usr/bin/env bash
# Rebuild only the site (build/site/, open build/site/index.html) from what is committed: the executed notebooks,
# figures/ and the README. Nothing is executed or trained; under a minute on 2 cores, seconds when little changed.
#   bash scripts/site.sh            # sources in build/site-src/, HTML in build/site/
#   bash scripts/site.sh --clean    # from scratch
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python -m repro.bundle.site "$@"
