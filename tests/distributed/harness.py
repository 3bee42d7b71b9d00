"""The worker side of the MPI tests: register checks, run them in order on every rank, report.

Each check prints `PASS <name> rank=<r>` or `FAIL <name> rank=<r>: <error>` (the traceback goes
to stderr). A check that fails on one rank only may leave the others waiting in a collective:
the workers' short group timeout turns that into failures instead of a hang.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import Any

import autodiff.distributed as dist

CHECKS: list[Callable[[], None]] = []


def check(function: Callable[[], None]) -> Callable[[], None]:
    CHECKS.append(function)
    return function


def run_checks(timeout: float = 30.0, expected_size: int | None = None) -> None:
    """init_process_group("mpi"), run every registered check, exit 1 if any failed."""
    dist.init_process_group("mpi", timeout=timeout)
    rank, size = dist.get_rank(), dist.get_world_size()
    if expected_size is not None and size != expected_size:
        report(f"FAIL world_size rank={rank}: started as rank {rank} of {size}, expected "
               f"{expected_size} ranks: the launcher and mpi4py's MPI library differ")
        sys.exit(1)
    failed = False
    for function in CHECKS:
        try:
            function()
        except Exception as error:
            failed = True
            message = f"{type(error).__name__}: {error}".replace("\n", " ")
            report(f"FAIL {function.__name__} rank={rank}: {message}")
            traceback.print_exc()
        else:
            report(f"PASS {function.__name__} rank={rank}")
    if dist.is_initialized():
        dist.destroy_process_group()
    sys.exit(1 if failed else 0)


def report(line: str) -> None:
    # One write per line: the launcher merges the ranks' output as it arrives.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def expected_size() -> int | None:
    return int(sys.argv[1]) if len(sys.argv) > 1 else None


def rank() -> int:
    return dist.get_rank()


def size() -> int:
    return dist.get_world_size()


def raises(kind: type[BaseException], match: str, function: Callable[..., Any], *args: Any,
           **kwargs: Any) -> str:
    """The message of the `kind` error that `function(*args, **kwargs)` raises; it must
    contain `match`."""
    try:
        function(*args, **kwargs)
    except kind as error:
        assert match in str(error), f"{match!r} not in {str(error)!r}"
        return str(error)
    raise AssertionError(f"{kind.__name__} was not raised")
