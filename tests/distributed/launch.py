"""Run a worker script under `mpiexec -n K` and read what each rank reported.

Workers print one line per check: `PASS <check> rank=<r>` or `FAIL <check> rank=<r>: <error>`.
The pytest modules run each worker once per world size (a module-scoped fixture) and turn every
check into its own test item. Without mpi4py or an MPI launcher they skip, saying which is
missing and how to install it.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
INSTALL = 'pip install -e ".[distributed]"'
# A worker that needs longer than this has hung: the test fails instead of blocking the suite.
HANG_LIMIT = 240

# Not anchored: the launcher may glue two ranks' lines together.
_LINE = re.compile(r"(PASS|FAIL) (\w+) rank=(\d+)(?:: ([^\n]*))?")


@cache
def launcher() -> tuple[list[str], dict[str, str]] | str:
    """(the launch command prefix, extra environment), or why MPI tests cannot run here."""
    try:
        import mpi4py  # noqa: F401  (does not initialise MPI: only mpi4py.MPI does)
    except ImportError:
        return f"mpi4py is not installed ({INSTALL})"
    # The launcher must belong to the MPI that mpi4py loads: prefer the one installed next to
    # this Python (the mpich wheel puts mpiexec in the venv's bin/), then PATH.
    found = None
    for name in ("mpiexec", "mpirun"):
        found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
        if found:
            break
    if found is None:
        return f"no MPI launcher (mpiexec/mpirun) was found ({INSTALL} installs MPICH's)"
    version = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=30)
    command, env = [found], {}
    if "open mpi" in (version.stdout + version.stderr).lower():
        # Open MPI refuses more ranks than cores (3 ranks on a 2-core CI machine) and root.
        command.append("--oversubscribe")
        env = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    return command, env


def skip_reason() -> str | None:
    found = launcher()
    return found if isinstance(found, str) else None


@dataclass
class Run:
    returncode: int
    output: str
    results: dict[tuple[str, int], tuple[str, str]]  # (check, rank) -> (PASS|FAIL, detail)

    def check(self, name: str, ranks: int) -> None:
        """Assert that every rank reported `name` as passed."""
        for rank in range(ranks):
            status = self.results.get((name, rank))
            assert status is not None, (
                f"rank {rank} never reported '{name}' (the worker crashed or hung?)\n"
                f"{self.output[-4000:]}")
            assert status[0] == "PASS", f"rank {rank}: {name} failed: {status[1]}"


def run(worker: str, ranks: int, *args: str, timeout: float = HANG_LIMIT) -> Run:
    """`mpiexec -n <ranks> python tests/distributed/<worker> <args>` from the repository root
    (`worker` may also be an absolute path)."""
    found = launcher()
    assert not isinstance(found, str), found
    command, extra_env = found
    env = {**os.environ, **extra_env, "PYTHONPATH": str(ROOT),
           # One BLAS thread per rank: ranks already fill the cores.
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    completed = subprocess.run(
        [*command, "-n", str(ranks), sys.executable, str(HERE / worker), *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    output = completed.stdout + completed.stderr
    results: dict[tuple[str, int], tuple[str, str]] = {}
    for match in _LINE.finditer(completed.stdout):
        status, name, rank, detail = match.groups()
        results[(name, int(rank))] = (status, detail or "")
    return Run(completed.returncode, output, results)


def checks_in(worker: str) -> list[str]:
    """The names of a worker's `@check` functions, in order (read from its source)."""
    tree = ast.parse((HERE / worker).read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)
            and any(isinstance(d, ast.Name) and d.id == "check" for d in node.decorator_list)]
