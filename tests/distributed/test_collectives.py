"""Collectives under `mpiexec -n 2` and `-n 3` (worker_collectives.py): every check is a test."""

from __future__ import annotations

import pytest

from .launch import Run, checks_in, run, skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=f"{skip_reason()}")

WORKER = "worker_collectives.py"


@pytest.fixture(scope="module", params=[2, 3], ids=lambda n: f"{n}ranks")
def launched(request: pytest.FixtureRequest) -> tuple[int, Run]:
    ranks = request.param
    return ranks, run(WORKER, ranks, str(ranks))


@pytest.mark.parametrize("name", checks_in(WORKER))
def test_collective(launched: tuple[int, Run], name: str) -> None:
    ranks, result = launched
    result.check(name, ranks)


def test_worker_exits_cleanly(launched: tuple[int, Run]) -> None:
    _, result = launched
    assert result.returncode == 0, result.output[-4000:]
