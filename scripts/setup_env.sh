#!/usr/bin/env bash
# Create or update the project's virtual environment in .venv (idempotent and fast when nothing changed).
# Python 3.11 is required (torch 2.14.1 / torchvision 0.29.1 wheels). Override the interpreter with PYTHON=...
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "setup_env: need Python 3.11, found $("$PYTHON" --version 2>&1) at $(command -v "$PYTHON"); set PYTHON=..." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.repro-installed
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup_env: installing requirements into .venv (first run takes a minute or two)"
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install --quiet -r requirements.txt 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install --quiet --no-deps -e . 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import torch, torchvision, papermill, jupytext, nbval, pytorch_msssim, spoa, edlib, reedsolo, repro
import sphinx, myst_nb, sphinx_book_theme' \
    || { echo "setup_env: installation incomplete" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
# BBMap's randomreads.sh: notebook 05's second read simulator. Optional (its cells and tests skip without it), so
# only tried as root with apt-get, and a failure never stops the set-up.
if ! command -v randomreads.sh >/dev/null 2>&1 && [ ! -x /usr/share/bbmap/randomreads.sh ] \
   && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup_env: installing the Debian package bbmap (optional, for notebook 05)"
  timeout 300 apt-get install -y -qq bbmap >/dev/null 2>&1 || echo "setup_env: bbmap not installed (optional)"
fi
# Chromium (Debian's package): the site's browser test (tests/test_site.py) loads pages in it headless. Optional (the
# test skips without it), tried the same way as bbmap.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
   && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup_env: installing the Debian package chromium (optional, for the site's browser test)"
  { timeout 600 apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { timeout 300 apt-get update -qq >/dev/null 2>&1 && timeout 600 apt-get install -y -qq chromium >/dev/null 2>&1; }; } \
    || echo "setup_env: chromium not installed (optional; the browser test skips)"
fi
