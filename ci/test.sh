#!/usr/bin/env bash
# The README's test command in a fresh virtual environment: what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${AUTODIFF_CI_VENV:-$(mktemp -d)/venv}"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
# The README's second command, verbatim:
pip install -e ".[test]" && pytest
