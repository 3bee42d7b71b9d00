#!/usr/bin/env bash
# The README's test command in a fresh virtual environment: what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${AUTODIFF_CI_VENV:-$(mktemp -d)/venv}"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
# mpi4py and MPICH first, so the distributed tests (tests/distributed, under mpiexec) run too;
# without them they skip, saying why.
pip install -e ".[distributed]"
# The README's second command, verbatim:
pip install -e ".[test]" && pytest
