"""A rank that raises does not leave the others hanging (worker_failures.py under mpiexec):
with abort_on_exception=False they raise DistTimeoutError after the group's timeout; with the
default, the uncaught exception aborts the whole job at once."""

from __future__ import annotations

import pytest

from .launch import run, skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=f"{skip_reason()}")

WORKER = "worker_failures.py"


@pytest.mark.parametrize("ranks", [2, 3])
def test_the_other_ranks_time_out_with_a_clear_error(ranks: int) -> None:
    result = run(WORKER, ranks, "timeout")
    assert result.returncode != 0  # rank 1 ended with its exception
    assert "ValueError: rank 1 fails on purpose" in result.output
    for rank in set(range(ranks)) - {1}:
        for check in ("collective_times_out", "group_unusable_after_timeout"):
            assert result.results.get((check, rank), ("",))[0] == "PASS", result.output[-3000:]


def test_an_uncaught_exception_aborts_every_rank() -> None:
    # The collective's timeout is 600 s: ending well inside 60 s means the job was aborted.
    result = run(WORKER, 2, "abort", timeout=60)
    assert result.returncode != 0
    assert "ValueError: rank 1 fails on purpose" in result.output  # its traceback comes first
    assert "MPI_Abort" in result.output or "Abort" in result.output
    assert not any(status == "FAIL" for status, _ in result.results.values()), result.output


def test_ddp_backward_times_out_when_a_rank_skips_it() -> None:
    result = run(WORKER, 2, "backward")
    assert result.results.get(("backward_times_out", 0), ("",))[0] == "PASS", result.output
    assert result.returncode == 0, result.output[-3000:]
